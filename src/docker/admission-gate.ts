import {
  AdmissionDeniedError,
  type AdmissionFinding,
  type AdmissionLevel,
  type AdmissionLookups,
  type AdmissionSettings,
  type ContainerCreateShape,
  reviewContainerCreate,
  reviewContainerUpdate,
  reviewExecCreate,
  reviewNetworkCreate,
  reviewVolumeCreate,
  routeRuleOf,
} from '../security/admission.ts';
import { reviewServiceSpec } from '../security/service-admission.ts';
import { type DockerClient, type EngineCall, toSearchParams } from './client.ts';
import { inspectContainer } from './containers.ts';
import { inspectImage } from './images.ts';
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

/** Reviews one engine call before it is sent; throws {@link AdmissionDeniedError}. */
export type AdmissionGate = (call: EngineCall) => Promise<void>;

/** What each reviewed write is, in a refusal's words. */
const ACTIONS: Readonly<Record<string, string>> = {
  'container-create': 'create this container',
  'container-update': 'update this container',
  'volume-create': 'create this volume',
  'network-create': 'create this network',
  'exec-create': 'run this exec',
  'service-spec': 'run this service',
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
        HostConfig: {
          ...hostConfig,
          Mounts: container.Mounts.map((mount) => ({
            Type: mount.Type ?? 'volume',
            Source: mount.Type === 'bind' ? (mount.Source ?? '') : (mount.Name ?? ''),
            ReadOnly: mount.RW === false,
          })),
        },
      };
      return shape;
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
  // (a pull before a create), and the client asks again when the write is sent.
  const verdicts = new Map<string, Promise<void>>();
  const review = async (call: EngineCall, method: string, query: URLSearchParams) => {
    const rule = routeRuleOf(method, call.path, query);
    const { level, settings } = subject;
    if (level === 'privileged') return;
    let findings: AdmissionFinding[];
    let action = ACTIONS[rule?.review ?? ''] ?? `send ${method} ${call.path}`;
    if (!rule) {
      findings = [
        { control: 'unrecognised-field', message: `${method} ${call.path} has no admission rule` },
      ];
    } else if (rule.review === 'none') {
      return;
    } else if (rule.review === 'privileged-only') {
      action = `send ${method} ${call.path}`;
      findings = [{ control: 'host-side-effects', message: rule.reason }];
    } else {
      const body = jsonBodyOf(call);
      switch (rule.review) {
        case 'container-create':
          findings = await reviewContainerCreate(
            (body ?? {}) as ContainerCreateShape,
            level,
            settings,
            lookups,
          );
          break;
        case 'container-update':
          findings = reviewContainerUpdate(body, level);
          break;
        case 'volume-create':
          findings = reviewVolumeCreate(body, level, settings);
          break;
        case 'network-create':
          findings = reviewNetworkCreate(body, level);
          break;
        case 'exec-create':
          findings = reviewExecCreate(body, level);
          break;
        case 'service-spec':
          findings = await reviewServiceSpec(body, level, settings, lookups);
          break;
      }
    }
    if (findings.length === 0) return;
    throw new AdmissionDeniedError(
      `${subject.who} may not ${action}: the "${level}" admission level refuses ${findings.map((finding) => finding.message).join('; ')}. Only the "privileged" level (the "dangerous" permission) allows it`,
      level,
      findings,
    );
  };
  return (call) => {
    const method = call.method ?? 'GET';
    if (method === 'GET' || method === 'HEAD') return Promise.resolve();
    const query = toSearchParams(call.query);
    const body =
      typeof call.body === 'string' || Buffer.isBuffer(call.body) ? call.body.toString('utf8') : '';
    const key = `${method} ${call.path}?${query.toString()} ${body}`;
    let verdict = verdicts.get(key);
    if (!verdict) {
      verdict = review(call, method, query);
      verdicts.set(key, verdict);
    }
    return verdict;
  };
}
