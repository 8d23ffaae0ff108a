import {
  AdmissionDeniedError,
  type AdmissionFinding,
  type AdmissionLevel,
  type AdmissionLookups,
  type AdmissionSettings,
  admitContainerCreate,
  admitNetworkConnect,
  type ContainerCreateShape,
  loginRegistryOf,
  reviewContainerUpdate,
  reviewExecCreate,
  reviewNetworkCreate,
  reviewRegistry,
  reviewVolumeCreate,
  routeRuleOf,
} from '../security/admission.ts';
import { reviewServiceSpec } from '../security/service-admission.ts';
import { type DockerClient, type EngineCall, toSearchParams } from './client.ts';
import { inspectContainer } from './containers.ts';
import { EngineConflictError, EngineNotFoundError } from './errors.ts';
import { encodePathSegment } from './filters.ts';
import { registryOf } from './image-reference.ts';
import { inspectImage } from './images.ts';
import { inspectNetwork } from './networks.ts';
import { inspectService } from './swarm-services.ts';
import { inspectVolume } from './volumes.ts';

/**
 * Where the admission policy (`src/security/admission.ts`) meets the engine:
 * every write a request-scoped client sends passes {@link AdmissionGate} first,
 * whichever resolver, subscription or route sends it, and the lookups the
 * policy needs are engine reads made through the same client.
 *
 * @module
 */

/** Who the writes are admitted for. */
export interface AdmissionSubject {
  readonly level: AdmissionLevel;
  readonly settings: AdmissionSettings;
  /** How refusals name the caller, e.g. `token "ci" (role "deployer")`. */
  readonly who: string;
}

/**
 * Reviews one engine call before it is sent, and answers the call to send in
 * its place: the same call, or one naming what the review looked up by the ids
 * it inspected (see `admitContainerCreate`). Throws {@link AdmissionDeniedError}.
 */
export type AdmissionGate = (call: EngineCall) => Promise<EngineCall>;

/** What each reviewed write is, in a refusal's words. */
const ACTIONS: Readonly<Record<string, string>> = {
  'container-create': 'create this container',
  'container-update': 'update this container',
  'volume-create': 'create this volume',
  'network-create': 'create this network',
  'network-connect': 'connect a container to this network',
  'exec-create': 'run this exec',
  'service-spec': 'run this service',
  'image-pull': 'pull this image',
  'image-push': 'push this image',
  'registry-login': 'log in to this registry',
  'registry-read': 'ask this registry about an image',
};

function jsonBodyOf(call: EngineCall): unknown {
  const { body } = call;
  if (typeof body !== 'string' && !Buffer.isBuffer(body)) return undefined;
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
}

/** The engine reads the policy makes, through `docker`. */
function lookupsOf(docker: DockerClient): AdmissionLookups {
  return {
    async volume(name) {
      const volume = await inspectVolume(docker, name);
      return volume ? { driver: volume.Driver, options: volume.Options ?? {} } : null;
    },
    async container(idOrName) {
      const container = await inspectContainer(docker, idOrName);
      if (!container) return null;
      // Sharing a container's network namespace gives every network it is connected to.
      const networks = container.NetworkSettings.Networks ?? {};
      // Keyed by id where the engine has one: the network the container really joined.
      const endpoints = Object.fromEntries(
        Object.entries(networks).map(([name, endpoint]) => [endpoint.NetworkID || name, {}]),
      );
      const {
        // The engine fills these in with its defaults, which the policy would read as
        // requests: masked paths are the defaults, cgroupns "host" is the cgroup v1 default,
        // and the mounts it really has are the top-level `Mounts`.
        MaskedPaths: _masked,
        ReadonlyPaths: _readonly,
        CgroupnsMode: _cgroupns,
        Binds: _binds,
        Mounts: _mounts,
        ...hostConfig
      } = container.HostConfig as unknown as Record<string, unknown>;
      const shape: ContainerCreateShape = {
        NetworkingConfig: { EndpointsConfig: endpoints },
        HostConfig: {
          ...hostConfig,
          Mounts: container.Mounts.map((mount) => ({
            Type: mount.Type ?? 'volume',
            Source: mount.Type === 'bind' ? (mount.Source ?? '') : (mount.Name ?? ''),
            ReadOnly: mount.RW === false,
          })),
        },
      };
      return { id: container.Id, config: shape };
    },
    async network(idOrName) {
      const network = await inspectNetwork(docker, idOrName);
      if (!network) return null;
      // `ConfigFrom` (API 1.30+) is left out of EngineNetwork, which lists what the schema shows.
      const configFrom = (network as { ConfigFrom?: { Network?: string } }).ConfigFrom?.Network;
      return {
        id: network.Id,
        name: network.Name,
        driver: network.Driver,
        options: network.Options ?? {},
        ipamDriver: network.IPAM.Driver,
        ipamOptions: network.IPAM.Options ?? {},
        configFrom: configFrom ?? '',
      };
    },
    async imageUser(reference) {
      const image = await inspectImage(docker, reference);
      return image ? (image.Config?.User ?? '') : null;
    },
  };
}

/** A gate admitting `subject`'s writes, looking up what it needs through `docker`. */
export function createAdmissionGate(
  docker: DockerClient,
  subject: AdmissionSubject,
): AdmissionGate {
  const lookups = lookupsOf(docker);
  // One verdict per distinct write: a resolver may ask before side effects it makes first
  // (a pull before a create), and the client asks again when the write is sent. The verdict is
  // the call to send, so a write asked about twice is sent as reviewed the first time, naming
  // the objects the review inspected by id even if names moved since.
  const verdicts = new Map<string, Promise<Rewrite | null>>();
  const review = async (
    call: EngineCall,
    method: string,
    query: URLSearchParams,
  ): Promise<Rewrite | null> => {
    const rule = routeRuleOf(method, call.path, query);
    const { level, settings } = subject;
    if (level === 'privileged') return null;
    let findings: AdmissionFinding[] = [];
    let admitted: Rewrite | null = null;
    let action = ACTIONS[rule?.review ?? ''] ?? `send ${method} ${call.path}`;
    if (!rule) {
      findings = [
        { control: 'unrecognised-field', message: `${method} ${call.path} has no admission rule` },
      ];
    } else if (rule.review === 'none') {
      return null;
    } else if (rule.review === 'privileged-only') {
      action = `send ${method} ${call.path}`;
      findings = [{ control: 'host-side-effects', message: rule.reason }];
    } else {
      const body = jsonBodyOf(call);
      switch (rule.review) {
        case 'container-create': {
          const review = await admitContainerCreate(
            (body ?? {}) as ContainerCreateShape,
            level,
            settings,
            lookups,
          );
          findings = review.findings;
          if (review.body !== body)
            admitted = { path: call.path, body: JSON.stringify(review.body) };
          break;
        }
        case 'container-update':
          findings = reviewContainerUpdate(body, level);
          break;
        case 'volume-create':
          findings = reviewVolumeCreate(body, level, settings);
          break;
        case 'network-create':
          findings = reviewNetworkCreate(body, level, settings);
          break;
        case 'network-connect': {
          const reference = pathSegment(call.path, 1);
          const review = await admitNetworkConnect(
            reference ?? '',
            body ?? {},
            level,
            settings,
            lookups,
          );
          findings = review.findings;
          if (reference === undefined) {
            findings.push({ control: 'unrecognised-field', message: `path ${call.path}` });
          }
          // Sent on, the engine would look the name up again, and might find a network made
          // since: answered here as the engine answers a missing network.
          if (review.missing && findings.length === 0) {
            throw new EngineNotFoundError(
              'NOT_FOUND',
              `connect to network "${reference ?? ''}": network ${reference ?? ''} not found`,
              404,
            );
          }
          admitted = {
            path: `/networks/${encodePathSegment(review.network)}/connect`,
            body: JSON.stringify(review.body),
          };
          break;
        }
        case 'exec-create':
          findings = reviewExecCreate(body, level);
          break;
        case 'service-spec': {
          const spec = await specToRun(docker, call.path, query, body);
          // Every node pulls the task image: from a listed registry only, as a pull is.
          const task = (spec as { TaskTemplate?: { ContainerSpec?: unknown } } | undefined)
            ?.TaskTemplate;
          const image = fieldOfBody(task?.ContainerSpec, 'Image');
          findings = [
            ...(await reviewServiceSpec(spec, level, settings, lookups)),
            ...(image === ''
              ? []
              : reviewRegistry(
                  'TaskTemplate.ContainerSpec.Image',
                  registryOf(image),
                  level,
                  settings,
                )),
          ];
          break;
        }
        case 'image-pull': {
          const reference = query.get('fromImage');
          findings =
            reference === null || reference === ''
              ? [{ control: 'unrecognised-field', message: 'a pull without fromImage' }]
              : reviewRegistry('fromImage', registryOf(reference), level, settings);
          break;
        }
        case 'image-push':
          findings = reviewImagePath(/^\/images\/(.+)\/push$/, call.path, level, settings);
          break;
        case 'registry-read':
          findings = reviewImagePath(/^\/distribution\/(.+)\/json$/, call.path, level, settings);
          break;
        case 'registry-login': {
          const address = fieldOfBody(body, 'serveraddress');
          findings = reviewRegistry('serveraddress', loginRegistryOf(address), level, settings);
          break;
        }
      }
    }
    if (findings.length === 0) return admitted;
    throw new AdmissionDeniedError(
      `${subject.who} may not ${action}: the "${level}" admission level refuses ${findings.map((finding) => finding.message).join('; ')}. Only the "privileged" level (the "dangerous" permission) allows it`,
      level,
      findings,
    );
  };
  return (call) => {
    const method = call.method ?? 'GET';
    const query = toSearchParams(call.query);
    // Reads are not reviewed, except those with a rule (they reach out of the engine).
    if ((method === 'GET' || method === 'HEAD') && !routeRuleOf(method, call.path, query)) {
      return Promise.resolve(call);
    }
    // Only a JSON body is part of the key: a streamed one (an upload) is never rewritten.
    const body =
      typeof call.body === 'string' || Buffer.isBuffer(call.body) ? call.body.toString('utf8') : '';
    const key = `${method} ${call.path}?${query.toString()} ${body}`;
    let verdict = verdicts.get(key);
    if (!verdict) {
      verdict = review(call, method, query);
      verdicts.set(key, verdict);
    }
    return verdict.then((rewrite) => (rewrite ? { ...call, ...rewrite } : call));
  };
}

/**
 * The spec a service write makes the swarm run: its body, except for a rollback
 * (`POST /services/{id}/update?rollback=previous`), where the engine ignores the
 * body and returns to the previous spec it keeps, which someone else may have
 * set (an administrator's host mount, since taken away). That one is reviewed,
 * as read at the version the call names: a call naming another version is
 * answered as the engine answers it, since the previous spec it would return to
 * is not the one read.
 */
async function specToRun(
  docker: DockerClient,
  path: string,
  query: URLSearchParams,
  body: unknown,
): Promise<unknown> {
  const rollback = query.get('rollback');
  if (rollback === null || rollback === '' || rollback === 'none') return body;
  const id = /^\/services\/([^/]+)\/update$/.exec(path)?.[1];
  const reference = id === undefined ? undefined : decodedOrUndefined(id);
  // A path naming no service: the engine answers it as missing; there is nothing to run.
  if (reference === undefined) return body;
  const service = await inspectService(docker, reference);
  if (!service?.PreviousSpec) return body;
  const version = query.get('version');
  if (version !== String(service.Version.Index)) {
    throw new EngineConflictError(
      'CONFLICT',
      `roll back service "${reference}": the service changed since version ${version ?? '(none)'} (it is at ${service.Version.Index}); read it again and retry`,
      409,
    );
  }
  return service.PreviousSpec;
}

/** What a review changes in the call it admits: the objects it names, by the ids inspected. */
interface Rewrite {
  readonly path: string;
  readonly body: string;
}

/** The `index`th segment of an engine path, decoded ("/networks/{id}/connect" → 1 is the id). */
function pathSegment(path: string, index: number): string | undefined {
  const segment = path.split('/')[index + 1];
  return segment === undefined ? undefined : decodedOrUndefined(segment);
}

/**
 * Reviews the registry of the image a path names in its one capture group
 * (`/images/{name}/push`, `/distribution/{name}/json`); a path that names none is refused.
 */
function reviewImagePath(
  pattern: RegExp,
  path: string,
  level: AdmissionLevel,
  settings: AdmissionSettings,
): AdmissionFinding[] {
  const name = pattern.exec(path)?.[1];
  const decoded = name === undefined ? undefined : decodedOrUndefined(name);
  return decoded === undefined
    ? [{ control: 'unrecognised-field', message: `path ${path}` }]
    : reviewRegistry('image', registryOf(decoded), level, settings);
}

function decodedOrUndefined(text: string): string | undefined {
  try {
    return decodeURIComponent(text);
  } catch {
    return undefined;
  }
}

/** A string field of a JSON body, '' when absent. */
function fieldOfBody(body: unknown, key: string): string {
  if (typeof body !== 'object' || body === null) return '';
  const value = (body as Record<string, unknown>)[key];
  return typeof value === 'string' ? value : '';
}
