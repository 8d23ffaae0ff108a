import type {
  EngineContainerConfig,
  EngineContainerInspect,
  EngineContainerSummary,
  EngineEndpointSettings,
  EngineHealth,
  EngineHostConfig,
  EngineMountPoint,
} from '../docker/containers.ts';
import type { ContainerStateName } from '../docker/engine-shapes.ts';
import { parseEngineTime } from '../docker/engine-time.ts';
import type { Loaders } from '../loaders.ts';

/**
 * What has been read of one container: its entry of `GET /containers/json`, its
 * `GET /containers/{id}/json` answer, or both.
 */
export interface ContainerAnswers {
  readonly id: string;
  readonly summary: EngineContainerSummary | null;
  readonly inspect: EngineContainerInspect | null;
}

/** A port of a container and the host address it is published on, if any. */
export interface ContainerPort {
  readonly privatePort: number;
  readonly protocol: string;
  readonly publicPort: number | null;
  readonly hostIp: string | null;
}

/** A container's endpoints by network name; `complete` when they came from inspect, which alone lists aliases. */
export interface ContainerEndpoints {
  readonly endpoints: Readonly<Record<string, EngineEndpointSettings>>;
  readonly complete: boolean;
}

/** Splits an engine port key such as "80/tcp". */
export function splitPortKey(key: string): { port: number; protocol: string } {
  const [port, protocol] = key.split('/');
  return { port: Number(port), protocol: protocol ?? 'tcp' };
}

/** The command line as the engine's container list shows it: arguments with a space in quotes. */
function engineCommandLine(path: string, args: readonly string[]): string {
  return [path, ...args.map((arg) => (arg.includes(' ') ? `'${arg}'` : arg))].join(' ');
}

/**
 * Every fact of a container, read from whichever answer is at hand: a fact the
 * list has is never inspected for (the engine-call counts of the tests hold it);
 * one only inspect has is inspected once per container and request (the loader).
 * Both ways of reading answer alike (whole seconds, the list's command line).
 */
export class ContainerAccessor {
  readonly #answers: ContainerAnswers;
  readonly #loaders: Loaders;

  constructor(answers: ContainerAnswers, loaders: Loaders) {
    this.#answers = answers;
    this.#loaders = loaders;
  }

  /** The inspect answer; null when the container no longer exists. */
  details(): Promise<EngineContainerInspect | null> {
    const { inspect, id } = this.#answers;
    return inspect ? Promise.resolve(inspect) : this.#loaders.containers.inspect.load(id);
  }

  /** The list entry; null when the container no longer exists. */
  listEntry(): Promise<EngineContainerSummary | null> {
    const { summary, id } = this.#answers;
    return summary ? Promise.resolve(summary) : this.#loaders.containers.summaryById.load(id);
  }

  /** Its name without the leading slash (its id when it no longer exists). */
  async name(): Promise<string> {
    const { summary, inspect, id } = this.#answers;
    const name = summary?.Names[0] ?? inspect?.Name ?? (await this.details())?.Name ?? id;
    return name.replace(/^\//, '');
  }

  /** Every name it answers to, without leading slashes: only the list gives legacy link names. */
  async names(): Promise<string[]> {
    const { inspect } = this.#answers;
    const names = (await this.listEntry())?.Names ?? (inspect ? [inspect.Name] : []);
    return names.map((name) => name.replace(/^\//, ''));
  }

  /** Id of the image it was created from. */
  async imageId(): Promise<string | undefined> {
    const { summary, inspect } = this.#answers;
    return summary?.ImageID ?? inspect?.Image ?? (await this.details())?.Image;
  }

  /** The image reference it was created with (or an id); empty when it no longer exists. */
  async imageReference(): Promise<string> {
    const { summary, inspect } = this.#answers;
    return summary?.Image ?? inspect?.Config.Image ?? (await this.details())?.Config.Image ?? '';
  }

  /** The command line, as the list writes it. */
  async command(): Promise<string> {
    const { summary } = this.#answers;
    if (summary) return summary.Command;
    const inspect = await this.details();
    return inspect ? engineCommandLine(inspect.Path, inspect.Args) : '';
  }

  /** When it was created, in whole seconds as the list gives it. */
  async created(): Promise<Date> {
    const { summary } = this.#answers;
    if (summary) return new Date(summary.Created * 1000);
    const created = parseEngineTime((await this.details())?.Created)?.getTime() ?? 0;
    return new Date(Math.floor(created / 1000) * 1000);
  }

  /** Its lifecycle state; undefined when it no longer exists. */
  async state(): Promise<ContainerStateName | undefined> {
    const { summary, inspect } = this.#answers;
    return summary?.State ?? inspect?.State.Status ?? (await this.details())?.State.Status;
  }

  /** Whether it runs now (running, paused or restarting). */
  async isRunning(): Promise<boolean> {
    const state = await this.state();
    return state === 'running' || state === 'paused' || state === 'restarting';
  }

  /** The list's human-readable status, e.g. "Up 5 minutes"; only the list writes it. */
  async status(): Promise<string> {
    return (await this.listEntry())?.Status ?? '';
  }

  /** Its ports and where they are published. */
  async ports(): Promise<ContainerPort[]> {
    const { summary } = this.#answers;
    if (summary) {
      return summary.Ports.map((port) => ({
        privatePort: port.PrivatePort,
        protocol: port.Type,
        publicPort: port.PublicPort ?? null,
        hostIp: port.IP ?? null,
      }));
    }
    const inspect = await this.details();
    return Object.entries(inspect?.NetworkSettings.Ports ?? {}).flatMap(([key, bindings]) => {
      const { port, protocol } = splitPortKey(key);
      if (!bindings || bindings.length === 0)
        return [{ privatePort: port, protocol, publicPort: null, hostIp: null }];
      return bindings.map((binding) => ({
        privatePort: port,
        protocol,
        publicPort: binding.HostPort ? Number(binding.HostPort) : null,
        hostIp: binding.HostIp || null,
      }));
    });
  }

  /** Its labels; empty when it no longer exists. */
  async labels(): Promise<Readonly<Record<string, string>>> {
    const { summary, inspect } = this.#answers;
    return summary?.Labels ?? inspect?.Config.Labels ?? (await this.details())?.Config.Labels ?? {};
  }

  /** What is mounted into it. */
  async mounts(): Promise<EngineMountPoint[]> {
    const { summary, inspect } = this.#answers;
    return summary?.Mounts ?? inspect?.Mounts ?? (await this.details())?.Mounts ?? [];
  }

  /** Its endpoints by network name. */
  async endpoints(): Promise<ContainerEndpoints> {
    const { summary } = this.#answers;
    if (summary) return { endpoints: summary.NetworkSettings?.Networks ?? {}, complete: false };
    return { endpoints: (await this.details())?.NetworkSettings.Networks ?? {}, complete: true };
  }

  /** Its DNS aliases on one network; only inspect lists them. */
  async aliases(networkName: string): Promise<string[]> {
    return (await this.details())?.NetworkSettings.Networks?.[networkName]?.Aliases ?? [];
  }

  /** How it was configured at creation; null when it no longer exists. */
  async config(): Promise<EngineContainerConfig | null> {
    return (await this.details())?.Config ?? null;
  }

  /** Its host configuration; null when it no longer exists. */
  async hostConfig(): Promise<EngineHostConfig | null> {
    return (await this.details())?.HostConfig ?? null;
  }

  /** Its healthcheck state; null without a healthcheck. */
  async health(): Promise<EngineHealth | null> {
    return (await this.details())?.State.Health ?? null;
  }

  /** Exit code of its last run; null while it has never stopped. */
  async exitCode(): Promise<number | null> {
    const state = (await this.details())?.State;
    if (!state) return null;
    return parseEngineTime(state.FinishedAt) || state.Status === 'exited' || state.Status === 'dead'
      ? state.ExitCode
      : null;
  }

  /** Whether its last run was killed for lack of memory. */
  async oomKilled(): Promise<boolean> {
    return (await this.details())?.State.OOMKilled ?? false;
  }

  /** Why the engine could not start or run it; null when it did not fail. */
  async error(): Promise<string | null> {
    return (await this.details())?.State.Error || null;
  }

  /** Host process id of its main process while it runs. */
  async pid(): Promise<number | null> {
    return (await this.details())?.State.Pid || null;
  }

  /** When it last started; null if never. */
  async startedAt(): Promise<Date | null> {
    return parseEngineTime((await this.details())?.State.StartedAt);
  }

  /** When it last stopped; null if never. */
  async finishedAt(): Promise<Date | null> {
    return parseEngineTime((await this.details())?.State.FinishedAt);
  }

  /** How often its restart policy restarted it. */
  async restartCount(): Promise<number> {
    return (await this.details())?.RestartCount ?? 0;
  }

  /** Operating system it runs on; null when unknown. */
  async platform(): Promise<string | null> {
    return (await this.details())?.Platform || null;
  }
}

/** Reads a container's facts through the request's loaders. */
export function readContainer(answers: ContainerAnswers, loaders: Loaders): ContainerAccessor {
  return new ContainerAccessor(answers, loaders);
}
