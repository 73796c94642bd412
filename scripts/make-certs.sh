#!/usr/bin/env bash
# Regenerates the committed, TEST-ONLY certificate chains in fixtures/certs/<kind>/ with the openssl CLI.
# No network; every key is new on each run, so commit the whole output together.
#
#   fixtures/certs/rsa2048/     root RSA-4096 → intermediate RSA-2048 → leaf RSA-2048, SHA-256 signatures:
#                               the shape of a public CA's RSA chain (Let's Encrypt: ISRG Root X1 → R1x).
#   fixtures/certs/ecdsa-p256/  root P-384 → intermediate P-384 → leaf P-256, ECDSA-SHA384 signatures:
#                               the shape of a public CA's ECDSA chain (ISRG Root X2 → E-series → leaf).
#
# Each folder holds root.pem (the trust anchor clients load), intermediate.pem, leaf.pem, leaf.key
# (PKCS#8), chain.pem (leaf + intermediate: exactly what a server sends, the root never goes on the wire).
# The CA private keys are thrown away. The leaf is for localhost, 127.0.0.1 and ::1. Every certificate is
# valid from 2020-01-01 to 2119-12-31 (36524 days): backdated so a machine whose clock is behind the one that
# made them still accepts them, and long enough that committed fixtures never expire under a test. Signing
# goes through `openssl ca` because OpenSSL 3.0's `x509`/`req` cannot set notBefore.
#
# Extensions follow the CA/Browser Forum baseline profile (section 7.1) so the bytes a handshake carries are
# realistic: basicConstraints, keyUsage, extendedKeyUsage, subjectKeyIdentifier, authorityKeyIdentifier,
# authorityInfoAccess, CRL distribution points and certificate policies. URLs use the reserved `.invalid`
# top-level domain (RFC 2606), which never resolves. Certificate Transparency SCTs are not included.
#
# Usage: scripts/make-certs.sh [OUT_DIR]   (default fixtures/certs)
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
out_root=${1:-fixtures/certs}
not_before=20200101000000Z
not_after=21191231235959Z
org='TLS Reuse Bench Test Trust Services'
aia_host='http://pki.tls-reuse-bench.invalid'

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Writes the openssl config holding every extension section for one chain. $1: kind, $2: leaf key usage.
write_config() {
  local kind=$1 leaf_key_usage=$2
  cat >"$work/ext.cnf" <<EOF
[req]
distinguished_name = dn
prompt = no
[dn]
CN = unused

[ca]
default_ca = test_ca
[test_ca]
database = $work/index.txt
new_certs_dir = $work
# Required by the config parser even with -rand_serial, which never reads it.
serial = $work/serial
policy = policy_any
unique_subject = no
copy_extensions = none
email_in_dn = no
[policy_any]
countryName = optional
organizationName = optional
organizationalUnitName = optional
commonName = supplied

[root_ext]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash

[intermediate_ext]
basicConstraints = critical, CA:TRUE, pathlen:0
keyUsage = critical, digitalSignature, keyCertSign, cRLSign
extendedKeyUsage = serverAuth, clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
authorityInfoAccess = caIssuers;URI:${aia_host}/roots/${kind}-root.der
crlDistributionPoints = URI:${aia_host}/crl/${kind}-root.crl
certificatePolicies = 2.23.140.1.2.1, 2.23.140.1.2.2

[leaf_ext]
basicConstraints = critical, CA:FALSE
keyUsage = critical, ${leaf_key_usage}
extendedKeyUsage = serverAuth, clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
authorityInfoAccess = OCSP;URI:${aia_host}/ocsp/${kind}, caIssuers;URI:${aia_host}/issuers/${kind}-ca1.der
crlDistributionPoints = URI:${aia_host}/crl/${kind}-ca1.crl
certificatePolicies = 2.23.140.1.2.1
subjectAltName = DNS:localhost, IP:127.0.0.1, IP:::1
EOF
}

# $1: output key file, then the genpkey algorithm arguments.
new_key() {
  local file=$1
  shift
  openssl genpkey "$@" -out "$file"
}

# Builds one chain. $1 kind (folder name), $2 digest, $3 leaf keyUsage, $4 root-key args name,
# $5 intermediate-key args name, $6 leaf-key args name, $7 intermediate common name.
make_chain() {
  local kind=$1 digest=$2 leaf_key_usage=$3
  local -n root_alg=$4 intermediate_alg=$5 leaf_alg=$6
  local intermediate_cn=$7
  local dir="$out_root/$kind"
  mkdir -p "$dir"
  write_config "$kind" "$leaf_key_usage"

  new_key "$work/root.key" "${root_alg[@]}"
  new_key "$work/intermediate.key" "${intermediate_alg[@]}"
  new_key "$dir/leaf.key" "${leaf_alg[@]}"

  : >"$work/index.txt"
  printf '01\n' >"$work/serial"
  # -rand_serial: a random positive serial, as the baseline requirements (7.1) ask of public CAs.
  local sign=(ca -batch -notext -config "$work/ext.cnf" -rand_serial -preserveDN -md "$digest"
    -startdate "$not_before" -enddate "$not_after")

  local root_csr=(req -new -config "$work/ext.cnf" -key "$work/root.key"
    -subj "/C=US/O=$org/OU=Test Root Certification Authority/CN=TLS Reuse Bench Test Root ${kind^^} R1"
    -out "$work/root.csr")
  openssl "${root_csr[@]}"
  openssl "${sign[@]}" -selfsign -keyfile "$work/root.key" -extensions root_ext -in "$work/root.csr" \
    -out "$dir/root.pem"

  local intermediate_csr=(req -new -config "$work/ext.cnf" -key "$work/intermediate.key"
    -subj "/C=US/O=$org/CN=$intermediate_cn" -out "$work/intermediate.csr")
  openssl "${intermediate_csr[@]}"
  openssl "${sign[@]}" -cert "$dir/root.pem" -keyfile "$work/root.key" -extensions intermediate_ext \
    -in "$work/intermediate.csr" -out "$dir/intermediate.pem"

  local leaf_csr=(req -new -config "$work/ext.cnf" -key "$dir/leaf.key" -subj "/CN=localhost"
    -out "$work/leaf.csr")
  openssl "${leaf_csr[@]}"
  openssl "${sign[@]}" -cert "$dir/intermediate.pem" -keyfile "$work/intermediate.key" -extensions leaf_ext \
    -in "$work/leaf.csr" -out "$dir/leaf.pem"

  cat "$dir/leaf.pem" "$dir/intermediate.pem" >"$dir/chain.pem"
  chmod 0644 "$dir"/*.pem "$dir/leaf.key"

  local verify=(verify -CAfile "$dir/root.pem" -untrusted "$dir/intermediate.pem" "$dir/leaf.pem")
  openssl "${verify[@]}" >/dev/null
  printf 'make-certs: %s: chain.pem %s bytes (%s DER bytes on the wire)\n' "$kind" \
    "$(wc -c <"$dir/chain.pem")" \
    "$(($(openssl x509 -in "$dir/leaf.pem" -outform DER | wc -c) + $(openssl x509 -in "$dir/intermediate.pem" -outform DER | wc -c)))"
}

rsa4096=(-algorithm RSA -pkeyopt rsa_keygen_bits:4096)
rsa2048=(-algorithm RSA -pkeyopt rsa_keygen_bits:2048)
p384=(-algorithm EC -pkeyopt ec_paramgen_curve:P-384 -pkeyopt ec_param_enc:named_curve)
p256=(-algorithm EC -pkeyopt ec_paramgen_curve:P-256 -pkeyopt ec_param_enc:named_curve)

make_chain rsa2048 sha256 'digitalSignature, keyEncipherment' rsa4096 rsa2048 rsa2048 \
  'TLS Reuse Bench Test TLS RSA CA 2025 R11'
make_chain ecdsa-p256 sha384 'digitalSignature' p384 p384 p256 \
  'TLS Reuse Bench Test TLS ECC CA 2025 E6'

cat >"$out_root/README.md" <<'EOF'
# Test-only certificate chains

**TEST-ONLY: these keys are public. Never trust these roots outside this repository's tests and benchmarks.**

Made by `scripts/make-certs.sh` (openssl CLI, no network); rerun it to regenerate and commit every file.

| folder | root | intermediate | leaf | signatures |
| --- | --- | --- | --- | --- |
| `rsa2048/` | RSA-4096 | RSA-2048 | RSA-2048 | SHA-256 with RSA |
| `ecdsa-p256/` | P-384 | P-384 | P-256 | ECDSA with SHA-384 |

Each folder: `root.pem` (what clients trust), `intermediate.pem`, `leaf.pem`, `leaf.key` (PKCS#8),
`chain.pem` (leaf + intermediate, what the server sends). The leaf names `localhost`, `127.0.0.1` and `::1`;
every certificate is valid from 2020-01-01 to 2119-12-31. The extensions follow the CA/Browser Forum baseline profile so a
handshake carries realistic certificate bytes; URLs point at the reserved `.invalid` domain.
EOF
