/**
 * A `buildImage` input checked and turned into the engine's build options
 * (`POST /build`), before any engine call: tags, stage, platform, and the build
 * context (an inline Dockerfile and files made into a tar, or an uploaded one).
 * Field names in errors are the GraphQL input's (`input.files[0].path`).
 *
 * @module
 */
import type { ArchiveBody, BuildOptions, BuildRefusal } from './build.ts';
import { toEngineMap } from './container-spec.ts';
import { InvalidInputError } from './errors.ts';
import { givenFields } from './given-fields.ts';
import { checkPlatform, checkTagReference } from './image-reference.ts';
import { createTar, type TarEntry, TarPathError, tarPathProblem } from './tar.ts';

type Maybe<T> = T | null | undefined;

/** A build as the GraphQL input gives it. */
export interface BuildSpecInput {
  readonly dockerfile?: Maybe<string>;
  readonly files?: Maybe<
    readonly { readonly path: string; readonly content: string; readonly mode?: Maybe<number> }[]
  >;
  readonly dockerfilePath?: Maybe<string>;
  readonly tags?: Maybe<readonly string[]>;
  readonly buildArgs?: Maybe<readonly { readonly name: string; readonly value: string }[]>;
  readonly labels?: Maybe<readonly { readonly name: string; readonly value: string }[]>;
  readonly target?: Maybe<string>;
  readonly noCache?: Maybe<boolean>;
  readonly pull?: Maybe<boolean>;
  readonly platform?: Maybe<string>;
}

/** What the classic builder accepts as a stage name in `FROM … AS name`. */
const stagePattern = /^[a-z][a-z0-9_.-]*$/i;

function checkContextPath(field: string, path: string) {
  const problem = tarPathProblem(path);
  if (problem) throw new InvalidInputError(field, `"${path}": ${problem}`);
}

/** Checks a build request and turns it into the context to send, before any engine call. */
function buildContext(input: BuildSpecInput, upload: (() => ArchiveBody) | null): ArchiveBody {
  const inline = input.dockerfile ?? null;
  const dockerfilePath = input.dockerfilePath ?? 'Dockerfile';
  if (upload !== null) {
    if (inline !== null) {
      throw new InvalidInputError(
        'input.dockerfile',
        'give an inline Dockerfile or an uploaded context, not both: put the Dockerfile in the context',
      );
    }
    checkContextPath('input.dockerfilePath', dockerfilePath);
    if (input.files && input.files.length > 0) {
      throw new InvalidInputError(
        'input.files',
        'files go with an inline Dockerfile; put them in the uploaded context',
      );
    }
    return upload();
  }
  if (inline === null) {
    throw new InvalidInputError(
      'input.dockerfile',
      'give an inline Dockerfile (input.dockerfile) or an uploaded context (context)',
    );
  }
  checkContextPath('input.dockerfilePath', dockerfilePath);
  if (inline.trim() === '') throw new InvalidInputError('input.dockerfile', 'must not be empty');
  const entries: TarEntry[] = [{ path: dockerfilePath, content: inline }];
  const paths = new Map<string, string>([[dockerfilePath, 'input.dockerfilePath']]);
  const fields = ['input.dockerfilePath'];
  input.files?.forEach((file, index) => {
    const field = `input.files[${index}]`;
    checkContextPath(`${field}.path`, file.path);
    if (file.path.endsWith('/')) {
      throw new InvalidInputError(`${field}.path`, `"${file.path}" names a folder, not a file`);
    }
    const { path } = file;
    const clash = paths.get(path);
    if (clash !== undefined) {
      throw new InvalidInputError(`${field}.path`, `"${file.path}" is also the path of ${clash}`);
    }
    paths.set(path, field);
    fields.push(`${field}.path`);
    if (file.mode !== null && file.mode !== undefined && (file.mode < 0 || file.mode > 0o7777)) {
      throw new InvalidInputError(
        `${field}.mode`,
        `${file.mode} is not a permission value from 0 to 4095 (0o7777)`,
      );
    }
    entries.push({
      path,
      content: file.content,
      ...(file.mode !== null && file.mode !== undefined ? { mode: file.mode } : {}),
    });
  });
  // Paths were checked one by one; a file that is also another's folder is found here.
  try {
    return createTar(entries);
  } catch (error) {
    if (!(error instanceof TarPathError)) throw error;
    const index = entries.findIndex((entry) => entry.path === error.path);
    throw new InvalidInputError(fields[index] ?? 'input.files', error.message);
  }
}

/** The input field an engine refusal is about, by what the build was made from. */
export function refusalField(refusal: BuildRefusal, inline: boolean): string {
  switch (refusal) {
    case 'dockerfile':
      return inline ? 'input.dockerfile' : 'input.dockerfilePath';
    case 'dockerfilePath':
      return 'input.dockerfilePath';
    case 'target':
      return 'input.target';
    case 'context':
      return 'context';
  }
}

/** A build request checked and turned into the engine's options. */
export interface CheckedBuild {
  readonly options: BuildOptions;
  /** Whether the context was made of an inline Dockerfile (rather than uploaded). */
  readonly inline: boolean;
}

/**
 * Checks a build request before any engine call: the input fields, then the context.
 * `upload` opens an uploaded context, only once everything else was found right.
 */
export function checkBuild(
  input: BuildSpecInput,
  upload: (() => ArchiveBody) | null,
): CheckedBuild {
  input.tags?.forEach((tag, index) => {
    checkTagReference(`input.tags[${index}]`, tag);
  });
  if (input.target !== null && input.target !== undefined && !stagePattern.test(input.target)) {
    throw new InvalidInputError(
      'input.target',
      `"${input.target}" is not a stage name: a letter, then letters, digits, "_", "." and "-"`,
    );
  }
  if (input.platform !== null && input.platform !== undefined) {
    checkPlatform('input.platform', input.platform);
  }
  const given = givenFields({
    tags: input.tags,
    buildArgs: input.buildArgs ? toEngineMap('input.buildArgs', input.buildArgs) : undefined,
    labels: input.labels ? toEngineMap('input.labels', input.labels) : undefined,
    target: input.target,
    noCache: input.noCache,
    pull: input.pull,
    platform: input.platform,
  });
  const body = buildContext(input, upload);
  return {
    options: { context: body, dockerfile: input.dockerfilePath ?? 'Dockerfile', ...given },
    inline: upload === null,
  };
}
