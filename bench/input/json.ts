/**
 * Reading a JSON input file with errors a user can act on: which file, and for broken JSON the line and
 * column of the first bad character (V8's own messages give no position for some errors).
 */
import { readFile } from 'node:fs/promises';
import { InputError } from '../errors.ts';
import { ShapeError } from './shape.ts';

/**
 * Reads, parses and validates `file`; `validate` throws ShapeError for a wrong shape, which becomes an
 * InputError naming the input and the JSON path (`workload file w.json: $.logger.intervalSeconds: …`).
 */
export async function readJsonInput<T>(file: string, label: string, validate: (value: unknown) => T): Promise<T> {
  return validateJson(await readJsonFile(file, label), `${label} ${file}`, validate);
}

/** Validates parsed JSON; a ShapeError becomes an InputError whose message starts with `source`. */
export function validateJson<T>(value: unknown, source: string, validate: (value: unknown) => T): T {
  try {
    return validate(value);
  } catch (error) {
    if (error instanceof ShapeError) throw new InputError(`${source}: ${error.message}`, { cause: error });
    throw error;
  }
}

/**
 * Reads and parses `file`. `label` names the input in messages (`--baseline`, `thresholds file`).
 * Throws InputError (exit 2) when the file is missing, unreadable, empty or not JSON.
 */
export async function readJsonFile(file: string, label: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const problem =
      code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory, expected a JSON file' : `cannot read it (${code ?? String(error)})`;
    throw new InputError(`${label} ${file}: ${problem}`, { cause: error });
  }
  return parseJsonText(text, `${label} ${file}`);
}

/** Parses JSON text; `source` starts the message of the InputError for empty or broken text. */
export function parseJsonText(text: string, source: string): unknown {
  // A UTF-8 byte order mark is not JSON, but editors on some systems write one.
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  if (text.trim() === '') throw new InputError(`${source}: the file is empty, expected JSON`);
  let parsed: unknown;
  let cause: unknown = null;
  try {
    parsed = JSON.parse(text) as unknown;
  } catch (error) {
    cause = error;
  }
  if (cause === null && !deeperThan(text, MAX_JSON_DEPTH)) return parsed;
  // The first syntax error, or the nesting no file of ours has, whichever comes first.
  const problem = locateJsonError(text, MAX_JSON_DEPTH) ?? { offset: 0, problem: 'JSON.parse refused the text' };
  const { line, column } = lineAndColumn(text, problem.offset);
  throw new InputError(`${source}: not valid JSON at line ${line}, column ${column}: ${problem.problem}`, cause === null ? {} : { cause });
}

/** Do arrays and objects nest deeper than `max` anywhere in `text` (brackets inside strings aside)? One pass over the characters. */
function deeperThan(text: string, max: number): boolean {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      // Skip the string: up to the next quote that no backslash escapes.
      for (i++; i < text.length; i++) {
        const d = text.charCodeAt(i);
        if (d === 0x5c) i++;
        else if (d === 0x22) break;
      }
    } else if (c === 0x5b || c === 0x7b) {
      if (++depth > max) return true;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return false;
}

/** Where a JSON text first breaks the grammar (RFC 8259), and what was expected there. */
export interface JsonSyntaxProblem {
  /** Offset of the offending character (the text's length when the text ends too early). */
  offset: number;
  problem: string;
}

/**
 * Deepest nesting of arrays and objects an input may have. Our files nest a handful of levels; a document far
 * deeper is no file of ours, and recursive code (JSON.stringify of the page's data among it) would overflow the
 * stack on it.
 */
export const MAX_JSON_DEPTH = 64;

/**
 * Scans `text` with the RFC 8259 grammar and returns the first syntax error, or a nesting deeper than
 * `maxDepth`. Called after JSON.parse failed (V8 says "Unexpected token '}'" without a position), and before it
 * for the depth. Iterative, with an explicit stack of open containers, so 200,000 nested `[` are a message,
 * not a stack overflow.
 */
export function locateJsonError(text: string, maxDepth = Number.POSITIVE_INFINITY): JsonSyntaxProblem | null {
  let i = 0;
  const fail = (problem: string): never => {
    throw new JsonSyntax(i, problem);
  };
  const found = (): string => (i >= text.length ? 'the end of the file' : `${JSON.stringify(text[i])}`);
  const space = () => {
    while (i < text.length && ' \t\n\r'.includes(text[i]!)) i++;
  };
  const literal = (word: string) => {
    for (const ch of word) {
      if (text[i] !== ch) fail(`expected ${word}, found ${found()}`);
      i++;
    }
  };
  const string = () => {
    i++;
    for (;;) {
      if (i >= text.length) fail('unterminated string');
      const ch = text[i]!;
      if (ch === '"') {
        i++;
        return;
      }
      if (ch === '\\') {
        i++;
        const esc = text[i];
        if (esc === 'u') {
          for (let k = 1; k <= 4; k++) if (!/[0-9a-fA-F]/.test(text[i + k] ?? '')) fail('expected 4 hex digits after \\u');
          i += 5;
        } else if (esc !== undefined && '"\\/bfnrt'.includes(esc)) i++;
        else fail(`invalid escape \\${esc ?? ''} in a string`);
      } else if (ch < ' ') fail('control character inside a string (escape it, e.g. \\n)');
      else i++;
    }
  };
  const number = () => {
    const match = /-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/y;
    match.lastIndex = i;
    const m = match.exec(text);
    if (m === null || m[0] === '-') fail(`expected a value, found ${found()}`);
    i += m![0].length;
  };
  const key = () => {
    space();
    if (text[i] !== '"') fail(`expected a property name in double quotes, found ${found()}`);
    string();
    space();
    if (text[i] !== ':') fail(`expected ':' after a property name, found ${found()}`);
    i++;
  };
  /** Open containers, innermost last: `]` for an array, `}` for an object. */
  const open: (']' | '}')[] = [];
  try {
    // Each turn reads one value, then closes the containers that end after it.
    for (;;) {
      space();
      const ch = text[i];
      if (ch === '{' || ch === '[') {
        if (open.length >= maxDepth) fail(`nested deeper than ${maxDepth} levels of arrays and objects`);
        i++;
        space();
        const close = ch === '{' ? '}' : ']';
        if (text[i] !== close) {
          open.push(close);
          if (close === '}') key();
          continue;
        }
        i++;
      } else if (ch === '"') string();
      else if (ch === 't') literal('true');
      else if (ch === 'f') literal('false');
      else if (ch === 'n') literal('null');
      else if (ch === '-' || (ch !== undefined && ch >= '0' && ch <= '9')) number();
      else fail(`expected a value, found ${found()}`);
      // After a value: a comma starts the next member of the innermost container, a closer ends it.
      let next = false;
      while (!next && open.length > 0) {
        space();
        const close = open.at(-1)!;
        const what = close === '}' ? "',' or '}' after a property value" : "',' or ']' after an array element";
        if (text[i] === ',') {
          i++;
          space();
          if (text[i] === close) fail(`trailing comma before '${close}'`);
          if (close === '}') key();
          next = true;
        } else if (text[i] === close) {
          i++;
          open.pop();
        } else fail(`expected ${what}, found ${found()}`);
      }
      if (!next) break;
    }
    space();
    if (i < text.length) fail(`unexpected ${found()} after the end of the JSON value`);
  } catch (error) {
    if (error instanceof JsonSyntax) return { offset: error.offset, problem: error.problem };
    throw error;
  }
  return null;
}

class JsonSyntax extends Error {
  constructor(
    readonly offset: number,
    readonly problem: string,
  ) {
    super(problem);
  }
}

/** 1-based line and column of a character offset. */
function lineAndColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  return { line, column: offset - before.lastIndexOf('\n') };
}
