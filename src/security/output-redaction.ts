/**
 * Secrets in what the engine reports, found and replaced by {@link REDACTED}
 * for principals without the `secrets` permission. Environment variable values
 * are withheld whole (src/schema/containers.ts); the functions here redact
 * values inside text that is otherwise worth showing.
 */

import { can, type Principal } from './principal.ts';

/** What stands in place of a withheld value. */
export const REDACTED = '[redacted]';

/** A text with its secret values replaced, and whether any were. */
export interface RedactedText {
  readonly text: string;
  readonly redacted: boolean;
}

/**
 * `text` as `principal` may see it: whole with the `secrets` permission,
 * otherwise with the secrets `redact` finds in it replaced.
 */
export function redactFor(
  principal: Principal,
  text: string,
  redact: (text: string) => RedactedText,
): RedactedText {
  return can(principal, 'secrets') ? { text, redacted: false } : redact(text);
}

/** A variable assignment "NAME=" starting a word. */
const assignmentPattern = /(^|\s)([A-Za-z_][A-Za-z0-9_]*)=/g;

/** Where each "NAME=" assignment of `text` starts (its name) and where its value starts. */
function assignmentsOf(text: string): { nameStart: number; valueStart: number }[] {
  return [...text.matchAll(assignmentPattern)].map((match) => {
    const nameStart = match.index + (match[1]?.length ?? 0);
    return { nameStart, valueStart: nameStart + (match[2]?.length ?? 0) + 1 };
  });
}

/**
 * Replaces the values of "A=1 B=two words" with REDACTED, keeping the names;
 * a value runs to the next assignment, or to `end`.
 */
function redactAssignments(text: string, end = text.length): RedactedText {
  const assignments = assignmentsOf(text.slice(0, end));
  if (assignments.length === 0) return { text, redacted: false };
  let result = text.slice(0, assignments[0]?.nameStart ?? 0);
  assignments.forEach((assignment, index) => {
    const next = assignments[index + 1];
    const valueEnd = next ? next.nameStart : end;
    const value = text.slice(assignment.valueStart, valueEnd);
    // The blank before the next name stays.
    const trailing = next ? (/\s+$/.exec(value)?.[0] ?? '') : '';
    result += `${text.slice(assignment.nameStart, assignment.valueStart)}${REDACTED}${trailing}`;
  });
  return { text: result + text.slice(end), redacted: true };
}

/** An `ENV` or `ARG` instruction, as the classic builder ("#(nop)") and BuildKit record them. */
const variableInstructionPattern = /^(.*?(?:^|#\(nop\)\s+))(ENV|ARG)(\s+)(.*)$/s;

/** A `RUN` with build arguments: "|2 A=1 B=2 /bin/sh -c make" (BuildKit adds "RUN " before). */
const buildArgumentsPattern = /^((?:RUN\s+)?\|(\d+)\s+)(.*)$/s;

/** Where the command of a `RUN` in shell form starts, after its build arguments. */
const shellCommandPattern = /\s\/bin\/(?:ba)?sh -c(?:\s|$)/;

/**
 * An image history step ("created by") with the values of `ENV` and `ARG`
 * instructions and of the build arguments a `RUN` step records replaced by
 * REDACTED: `docker build --build-arg TOKEN=…` leaves its value in the history
 * of every `RUN` step after the `ARG`. When the end of the last build argument
 * cannot be told (a `RUN` in exec form), everything after its name is withheld.
 */
export function redactHistoryStep(createdBy: string): RedactedText {
  const instruction = variableInstructionPattern.exec(createdBy);
  if (instruction) {
    const [, before = '', keyword = '', blank = '', rest = ''] = instruction;
    const assigned = redactAssignments(rest);
    if (assigned.redacted)
      return { text: `${before}${keyword}${blank}${assigned.text}`, redacted: true };
    // "ENV NAME value", the instruction's older form; "ARG NAME" has no value.
    const legacy = /^(\S+)(\s+)\S/.exec(rest);
    if (keyword === 'ENV' && legacy) {
      return {
        text: `${before}${keyword}${blank}${legacy[1]}${legacy[2]}${REDACTED}`,
        redacted: true,
      };
    }
    return { text: createdBy, redacted: false };
  }
  const run = buildArgumentsPattern.exec(createdBy);
  if (run) {
    const [, prefix = '', countText = '0', rest = ''] = run;
    const assignments = assignmentsOf(rest).slice(0, Number(countText));
    const last = assignments.at(-1);
    if (!last) return { text: createdBy, redacted: false };
    const command = shellCommandPattern.exec(rest.slice(last.valueStart));
    const end = command ? last.valueStart + command.index : rest.length;
    return { text: `${prefix}${redactAssignments(rest, end).text}`, redacted: true };
  }
  return { text: createdBy, redacted: false };
}

/** Option names that hold credentials: "password", "secret", "token", "auth", "credentials", "key"... */
const secretOptionName = /pass|secret|token|auth|cred|key/i;

/**
 * A driver option (volume, network, IPAM) with credentials replaced by
 * REDACTED: the whole value when its name says it holds one (a plugin's
 * "secretKey"), else the entries of a comma-separated mount option list that
 * do ("o=addr=10.0.0.5,username=app,password=…" for a CIFS volume).
 */
export function redactDriverOption(name: string, value: string): RedactedText {
  if (secretOptionName.test(name)) {
    return value === '' ? { text: value, redacted: false } : { text: REDACTED, redacted: true };
  }
  let redacted = false;
  const text = value
    .split(',')
    .map((entry) => {
      const separator = entry.indexOf('=');
      if (separator <= 0 || !secretOptionName.test(entry.slice(0, separator))) return entry;
      redacted = true;
      return `${entry.slice(0, separator)}=${REDACTED}`;
    })
    .join(',');
  return { text, redacted };
}
