/**
 * Names the plaintext protocol a TLS stream began with (STARTTLS and its kin, proxies, database SSL
 * requests) from the first bytes of each direction's prefix. A name is a guess from well-known openings
 * (RFC 3207 SMTP, RFC 3501 IMAP, RFC 2595 POP3, RFC 6120 XMPP, RFC 4217 FTP, RFC 4511 LDAP, RFC 9110 §9.3.6
 * CONNECT, RFC 1928 SOCKS 5, the PostgreSQL and MySQL protocols); anything else is `unknown`.
 */

/** The PostgreSQL SSLRequest: length 8, request code 80877103 (protocol docs, "SSL Session Encryption"). */
const POSTGRES_SSL_REQUEST = Buffer.from([0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f]);
/** The LDAP StartTLS extended operation's OID (RFC 4511 §4.14.1), as it appears in the request's bytes. */
const LDAP_START_TLS_OID = '1.3.6.1.4.1.1466.20037';
/** MySQL: the server's greeting is protocol version 10 after a 4-byte packet header; CLIENT_SSL is capability 0x0800. */
const MYSQL_PROTOCOL_10 = 10;
const MYSQL_PACKET_HEADER_BYTES = 4;
const MYSQL_CLIENT_SSL = 0x0800;

/** The name of the protocol whose prefixes these are (either may be null: that side began with TLS). */
export function namePlaintextPrefix(up: Buffer | null, down: Buffer | null): string {
  const client = up?.toString('latin1') ?? '';
  const server = down?.toString('latin1') ?? '';
  if (/^CONNECT \S+ HTTP\/1\.[01]\r?\n/.test(client)) return 'http-connect';
  if (up !== null && up.length >= 3 && up[0] === 0x05 && up[1]! >= 1 && up[1]! <= 9) return 'socks5';
  if (up !== null && up.length >= 9 && up[0] === 0x04 && (up[1] === 1 || up[1] === 2)) return 'socks4';
  if (up !== null && up.length >= POSTGRES_SSL_REQUEST.length && up.subarray(0, POSTGRES_SSL_REQUEST.length).equals(POSTGRES_SSL_REQUEST)) {
    return 'postgresql-sslrequest';
  }
  if (client.includes(LDAP_START_TLS_OID)) return 'ldap-starttls';
  if (isMysqlSslRequest(up, down)) return 'mysql-ssl';
  if (/<starttls\s+xmlns=['"]urn:ietf:params:xml:ns:xmpp-tls['"]/.test(client) || client.startsWith('<?xml') || client.startsWith('<stream:stream')) {
    return 'xmpp-starttls';
  }
  if (/^AUTH (TLS|SSL)\r?\n/im.test(client)) return 'ftp-auth-tls';
  if (/^(EHLO|HELO) /i.test(client) || /^STARTTLS\r?\n/im.test(client)) return 'smtp-starttls';
  if (/^\S+ STARTTLS\r?\n/im.test(client) || server.startsWith('* OK')) return 'imap-starttls';
  if (/^STLS\r?\n/im.test(client) || server.startsWith('+OK')) return 'pop3-stls';
  return 'unknown';
}

/** The server greeted with MySQL protocol 10 and the client's first packet sets CLIENT_SSL. */
function isMysqlSslRequest(up: Buffer | null, down: Buffer | null): boolean {
  if (up === null || down === null) return false;
  if (down.length <= MYSQL_PACKET_HEADER_BYTES || down[MYSQL_PACKET_HEADER_BYTES] !== MYSQL_PROTOCOL_10) return false;
  if (up.length < MYSQL_PACKET_HEADER_BYTES + 2) return false;
  const capabilities = up[MYSQL_PACKET_HEADER_BYTES]! | (up[MYSQL_PACKET_HEADER_BYTES + 1]! << 8);
  return (capabilities & MYSQL_CLIENT_SSL) !== 0;
}
