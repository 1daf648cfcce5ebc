/**
 * The cloud side of the composition root (main.ts): from config to the language-model answer source
 * and the orders service with its durable outbox, or, where no cloud is configured and the run allows
 * it, the development cloud started in this process on loopback (loaded by the caller: dev-cloud.ts).
 *
 * Network deadlines and retries run on the real clock whatever the loop's clock is: on a file run the
 * loop's clock is the audio's, which stands still while the loop waits for the network. The confirm
 * window is the wearer's time, so it runs on the loop's clock.
 */
import { randomBytes } from 'node:crypto';
import type { FrozenConfig } from '../config.js';
import type { GlassesError } from '../errors.js';
import { RealClock, type Clock } from '../hal/clock.js';
import type { Log } from '../log.js';
import type { AnswerSource, OrderEvent, Question } from '../voice-loop/ports.js';
import type { LookFor } from '../vision/service.js';
import type { Scene } from '../vision/scene.js';
import { LlmAnswerSource, openAiChatClient } from '../cloud/llm.js';
import { aboutWhatIsSeen, type SceneForMessages } from '../cloud/messages.js';
import { OrdersClient } from '../cloud/orders-client.js';
import { OrdersService } from '../cloud/orders-service.js';
import { Outbox } from '../cloud/outbox.js';
import { readDeviceToken } from '../cloud/security.js';
import { devCloudAbsent, type DevCloudModule, type EmbeddedDevCloud } from './dev-cloud.js';

/** What the cloud side needs of the camera: the vision service, when there is a camera. */
export interface CloudVision {
  look(needs: LookFor, signal: AbortSignal): Promise<Scene>;
  sceneFor(signal: AbortSignal): Scene | undefined;
  previewFor(signal: AbortSignal): Promise<Uint8Array | undefined>;
}

export interface CloudOptions {
  /**
   * Start the development cloud in this process for whichever of the two URLs is empty (the demo and
   * file runs); otherwise an empty URL leaves that side off.
   */
  embedded: boolean;
  /**
   * Orders go to the development cloud whatever config names (the demo: its scripted "yes" would
   * otherwise buy from a configured orders API). The language model still follows config.
   */
  devOrders?: boolean;
  /** The outbox folder, already resolved (the embedded cloud's orders never share the real one). */
  outboxDir: string;
  /** The loop's clock: the confirm window counts on it. */
  loopClock: Clock;
  vision: CloudVision | undefined;
  onOrder: (event: OrderEvent) => void;
  now: () => Date;
  log: Log;
  /** The language model's fetch, wrapped by the cloud benchmark to time requests; global fetch otherwise. */
  llmFetch?: typeof fetch;
  /**
   * The development cloud, loaded (loadDevCloud) where needsDevCloud says the run uses it; without it
   * such a run fails with E_DEV_CLOUD_ABSENT.
   */
  devCloud?: DevCloudModule;
}

/** Whether a run with these options stands the development cloud in for a cloud URL. */
export function needsDevCloud(
  config: FrozenConfig,
  options: Pick<CloudOptions, 'embedded' | 'devOrders'>,
): boolean {
  const c = config.cloud;
  return options.devOrders === true || (options.embedded && (c.llmBaseUrl === '' || c.ordersBaseUrl === ''));
}

export interface CloudSide {
  /** Undefined when no language model is configured or embedded. */
  answers: AnswerSource | undefined;
  /** Undefined when no orders API is configured or embedded. */
  orders: OrdersService | undefined;
  /**
   * Outbox entries that cannot be read (one E_OUTBOX for all): new orders are refused while they are
   * there. Undefined when all is well or there are no orders.
   */
  readonly damage: GlassesError | undefined;
  /** Where each side goes, for the start-up log: a URL, 'development cloud' or 'off'. */
  readonly targets: { llm: string; orders: string };
  /** Stops the outbox sender (pending orders stay on disk) and the embedded cloud. */
  close(): Promise<void>;
}

export async function connectCloud(config: FrozenConfig, options: CloudOptions): Promise<CloudSide> {
  const c = config.cloud;
  const log = options.log.child({ component: 'cloud' });
  const wall = new RealClock();
  let dev: { cloud: EmbeddedDevCloud; token: string } | undefined;
  const devOrders = options.devOrders === true;
  if (needsDevCloud(config, options)) {
    if (options.devCloud === undefined)
      throw devCloudAbsent(devOrders ? 'the demo' : 'a run with an empty cloud URL');
    // A token for this process only: never written anywhere, gone when the run ends.
    const token = randomBytes(24).toString('base64url');
    const cloud = await options.devCloud.createDevCloud({
      token,
      log: options.log.child({ component: 'dev-cloud' }),
    });
    dev = { cloud, token };
    log.info({ url: cloud.url }, 'no cloud configured: using the development cloud on loopback');
  }
  const lifetime = new AbortController();
  let outbox: Outbox | undefined;
  let sender: Promise<void> | undefined;
  try {
    const ordersBaseUrl = devOrders ? '' : c.ordersBaseUrl;
    if (devOrders && c.ordersBaseUrl !== '') {
      log.warn(
        { configured: c.ordersBaseUrl },
        'demo: its scripted orders go to the development cloud, never to the configured orders API',
      );
    }
    // The device token is read only when a real cloud is used: the demo needs no account.
    const deviceToken =
      c.llmBaseUrl !== '' || ordersBaseUrl !== '' ? await readDeviceToken(c.tokenFile) : undefined;
    const llm =
      c.llmBaseUrl !== '' && deviceToken !== undefined
        ? { baseUrl: c.llmBaseUrl, token: deviceToken }
        : dev === undefined
          ? undefined
          : { baseUrl: dev.cloud.llmBaseUrl, token: dev.token };
    const ordersApi =
      ordersBaseUrl !== '' && deviceToken !== undefined
        ? { baseUrl: ordersBaseUrl, token: deviceToken }
        : dev === undefined
          ? undefined
          : { baseUrl: dev.cloud.url, token: dev.token };

    const vision = options.vision;
    const answers =
      llm === undefined
        ? undefined
        : new LlmAnswerSource({
            client: openAiChatClient({
              baseUrl: llm.baseUrl,
              apiKey: llm.token,
              ...(options.llmFetch === undefined ? {} : { fetch: options.llmFetch }),
            }),
            model: c.llmModel,
            clock: wall,
            sceneFor: vision === undefined ? () => undefined : (signal, q) => sceneFor(vision, c, signal, q),
            historyTurns: c.historyTurns,
            firstTokenTimeoutMs: c.firstTokenTimeoutMs,
            answerTimeoutMs: c.answerTimeoutMs,
            audioBelowConfidence: c.audioBelowConfidence,
            sendImages: c.sendImages,
            log,
          });

    let orders: OrdersService | undefined;
    if (ordersApi !== undefined) {
      const client = new OrdersClient({
        baseUrl: ordersApi.baseUrl,
        token: ordersApi.token,
        requestTimeoutMs: c.requestTimeoutMs,
        clock: wall,
        log,
      });
      const o = config.orders;
      outbox = await Outbox.open({
        dir: options.outboxDir,
        client,
        clock: wall,
        retryInitialMs: o.retryInitialMs,
        retryMaxMs: o.retryMaxMs,
        log,
      });
      orders = new OrdersService({
        client,
        outbox,
        clock: options.loopClock,
        vision,
        limits: { maxOrderAmount: o.maxOrderAmount, maxDailyAmount: o.maxDailyAmount },
        now: options.now,
        onOrder: options.onOrder,
        log,
      });
      sender = outbox.run(lifetime.signal).catch((err: unknown) => {
        log.error({ err }, 'outbox sender stopped');
      });
    }
    const where = (configured: string, used: unknown): string =>
      used === undefined ? 'off' : configured !== '' ? configured : 'development cloud';
    const targets = { llm: where(c.llmBaseUrl, llm), orders: where(ordersBaseUrl, ordersApi) };
    log.info(targets, 'cloud ready');
    const running = outbox;
    const devCloud = dev?.cloud;
    return {
      answers,
      orders,
      damage: outbox?.damage,
      targets,
      close: async () => {
        lifetime.abort();
        running?.close();
        await sender;
        await devCloud?.close();
      },
    };
  } catch (err) {
    lifetime.abort();
    outbox?.close();
    await sender;
    await dev?.cloud.close();
    throw err;
  }
}

/**
 * The turn's scene for a question: what the turn already looked at, or a look now when the question
 * points at what the wearer sees; with the picture only when config lets pictures leave the device.
 */
async function sceneFor(
  vision: CloudVision,
  cloud: FrozenConfig['cloud'],
  signal: AbortSignal,
  question: Question,
): Promise<SceneForMessages | undefined> {
  const aboutIt = aboutWhatIsSeen(question.transcript);
  let scene = vision.sceneFor(signal);
  if (scene === undefined && aboutIt) {
    // A failed look (camera off, bad frame) still lets the question go, without a scene.
    scene = await vision.look({ objects: true, text: true }, signal).catch(() => undefined);
  }
  if (scene === undefined) return undefined;
  if (!cloud.sendImages || !aboutIt) return scene;
  const jpeg = await vision.previewFor(signal);
  return jpeg === undefined ? scene : { ...scene, image: { jpeg } };
}
