import { InvalidInputError, RegistryAuthError } from '../docker/errors.ts';
import { checkRegistryHost } from '../docker/image-reference.ts';
import { checkRegistryLogin } from '../docker/registry.ts';
import { builder } from './builder.ts';
import { registryMutationErrors } from './mutation-errors.ts';

/** The answer of a login check. */
interface RegistryLoginCheck {
  readonly registry: string;
  readonly valid: boolean;
  readonly message: string;
  readonly identityTokenIssued: boolean;
}

const RegistryLoginCheckRef = builder
  .objectRef<RegistryLoginCheck>('RegistryLoginCheck')
  .implement({
    description:
      'Whether a registry accepted the credentials (`docker login` without storing them). The password and any identity token are never echoed.',
    fields: (t) => ({
      registry: t.exposeString('registry', { description: 'The registry asked, "host[:port]".' }),
      valid: t.exposeBoolean('valid', {
        description: 'true when the registry accepted the credentials; false when it refused them.',
      }),
      message: t.exposeString('message', {
        description:
          'What the registry said: "Login Succeeded", or its refusal in the engine’s words.',
      }),
      identityTokenIssued: t.exposeBoolean('identityTokenIssued', {
        description:
          'Whether the registry issued an identity token (OAuth registries do, basic-auth ones do not). The token itself is not returned.',
      }),
    }),
  });

builder.mutationFields((t) => ({
  checkRegistryLogin: t.field({
    type: RegistryLoginCheckRef,
    description:
      'Checks credentials against a registry through the engine (`POST /auth`), without pulling, pushing or storing anything. Refused credentials answer `valid: false`; a registry out of reach answers an EngineFailureError naming it. The registry must be in DOCKERGRAPH_REGISTRIES below the privileged admission level, as for pulls.',
    errors: {
      types: [...registryMutationErrors],
      union: { description: 'Whether the credentials work, or why the registry was not asked.' },
    },
    args: {
      registry: t.arg.string({
        required: true,
        description:
          'The registry, "host[:port]" as image references name it, e.g. "registry.example.com:5000"; "docker.io" for Docker Hub.',
      }),
      username: t.arg.string({ required: false, description: 'User name at the registry.' }),
      password: t.arg.string({
        required: false,
        description: 'Password or access token for `username`; never logged or echoed.',
      }),
      identityToken: t.arg.string({
        required: false,
        description: 'An identity token from an earlier login, instead of username and password.',
      }),
    },
    resolve: async (_root, args, context) => {
      const registry = checkRegistryHost('registry', args.registry);
      const username = args.username ?? undefined;
      const password = args.password ?? undefined;
      const identityToken = args.identityToken ?? undefined;
      if (identityToken === undefined && (username === undefined || password === undefined)) {
        throw new InvalidInputError('username', 'give username and password, or identityToken');
      }
      if (username !== undefined && username.trim() === '') {
        throw new InvalidInputError('username', 'must not be empty');
      }
      try {
        const result = await checkRegistryLogin(context.docker, {
          registry,
          ...(username !== undefined ? { username } : {}),
          ...(password !== undefined ? { password } : {}),
          ...(identityToken !== undefined ? { identityToken } : {}),
        });
        return { registry, valid: true, message: result.status, ...result };
      } catch (error) {
        if (error instanceof RegistryAuthError) {
          return { registry, valid: false, message: error.message, identityTokenIssued: false };
        }
        throw error;
      }
    },
  }),
}));
