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
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    const { offset, problem } = locateJsonError(text);
    const { line, column } = lineAndColumn(text, offset);
    throw new InputError(`${source}: not valid JSON at line ${line}, column ${column}: ${problem}`, { cause: error });
  }
}

/** Where a JSON text first breaks the grammar (RFC 8259), and what was expected there. */
export interface JsonSyntaxProblem {
  /** Offset of the offending character (the text's length when the text ends too early). */
  offset: number;
  problem: string;
}

/**
 * Scans `text` with the RFC 8259 grammar and returns the first syntax error. Only called after JSON.parse
 * failed, so speed does not matter; it exists because V8 says "Unexpected token '}'" without a position.
 */
export function locateJsonError(text: string): JsonSyntaxProblem {
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
    const match = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i));
    if (match === null || match[0] === '-') fail(`expected a value, found ${found()}`);
    i += match![0].length;
  };
  const value = (): void => {
    space();
    const ch = text[i];
    if (ch === '{') return object();
    if (ch === '[') return array();
    if (ch === '"') return string();
    if (ch === 't') return literal('true');
    if (ch === 'f') return literal('false');
    if (ch === 'n') return literal('null');
    if (ch === '-' || (ch !== undefined && ch >= '0' && ch <= '9')) return number();
    fail(`expected a value, found ${found()}`);
  };
  const object = () => {
    i++;
    space();
    if (text[i] === '}') {
      i++;
      return;
    }
    for (;;) {
      space();
      if (text[i] !== '"') fail(`expected a property name in double quotes, found ${found()}`);
      string();
      space();
      if (text[i] !== ':') fail(`expected ':' after a property name, found ${found()}`);
      i++;
      value();
      space();
      if (text[i] === ',') {
        i++;
        space();
        if (text[i] === '}') fail("trailing comma before '}'");
        continue;
      }
      if (text[i] === '}') {
        i++;
        return;
      }
      fail(`expected ',' or '}' after a property value, found ${found()}`);
    }
  };
  const array = () => {
    i++;
    space();
    if (text[i] === ']') {
      i++;
      return;
    }
    for (;;) {
      value();
      space();
      if (text[i] === ',') {
        i++;
        space();
        if (text[i] === ']') fail("trailing comma before ']'");
        continue;
      }
      if (text[i] === ']') {
        i++;
        return;
      }
      fail(`expected ',' or ']' after an array element, found ${found()}`);
    }
  };
  try {
    value();
    space();
    if (i < text.length) fail(`unexpected ${found()} after the end of the JSON value`);
  } catch (error) {
    if (error instanceof JsonSyntax) return { offset: error.offset, problem: error.problem };
    throw error;
  }
  // The grammar accepted what JSON.parse refused: say so rather than point at a wrong place.
  return { offset: 0, problem: 'JSON.parse refused the text' };
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
