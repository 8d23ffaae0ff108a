import { checkImageReference, checkPlatform, withDefaultTag } from '../docker/image-reference.ts';
import { pullImage } from '../docker/images.ts';
import { builder } from './builder.ts';
import { ImageProgressRef, progressOf } from './image-progress.ts';
import { registryAuthArg, toRegistryCredentials } from './shared.ts';

builder.subscriptionField('pullImageProgress', (t) =>
  t.field({
    type: ImageProgressRef,
    description:
      'Pulls an image (`docker pull`) and streams its progress per layer; the last message holds the pulled image (DONE) or why the pull failed (FAILED).',
    args: {
      reference: t.arg.string({
        required: true,
        description:
          'What to pull: "[registry[:port]/]repository[:tag][@digest]"; without tag or digest "latest".',
      }),
      platform: t.arg.string({
        required: false,
        description:
          'Platform of a multi-platform image, "os/arch[/variant]"; the engine’s own when omitted.',
      }),
      auth: registryAuthArg(t.arg),
    },
    subscribe: (_root, { reference, platform, auth }, context) => {
      checkImageReference('reference', reference);
      const credentials = toRegistryCredentials('auth', auth);
      const checkedPlatform =
        platform !== null && platform !== undefined ? checkPlatform('platform', platform) : null;
      return progressOf(context, async (report, signal) => {
        await pullImage(context.docker.withSignal(signal), {
          reference,
          ...(checkedPlatform !== null ? { platform: checkedPlatform } : {}),
          ...(credentials ? { credentials } : {}),
          onEvent: (event) => report({ event, line: null }),
        });
        return withDefaultTag(reference);
      });
    },
    resolve: (message) => message,
  }),
);
