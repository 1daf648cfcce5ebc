/** `glasses flash`: a bundle onto boards over ssh, A/B slots, health-checked, rolled back on failure. */
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { GlassesError } from '../errors.js';
import { BUNDLES_DIR } from '../paths.js';
import { readLocalBundle, signedBy } from '../flash/bundle-file.js';
import { flashAll } from '../flash/flash-all.js';
import type { FlashSignals } from '../flash/flash-board.js';
import { progressPrinter, resultJson, summaryTable } from '../flash/report.js';
import { ShellBoard } from '../flash/shell-board.js';
import { SshShell } from '../flash/ssh.js';
import { parseBoardTarget } from '../flash/target.js';
import { initCommands, INIT_SYSTEMS, SERVICE_SCRIPT, type InitSystem } from '../flash/init.js';
import { PROVISION_DEFAULTS } from '../flash/provision.js';
import { boot, COMMON_USAGE, numberFlag, parse, usageError, type Command } from './command.js';

const DEFAULTS = {
  root: '/opt/glasses',
  node: 'node',
  init: 'systemd' as InitSystem,
  // The systemd unit sets GLASSES_HEALTH__FILE to this.
  healthFile: '/run/glasses/health.json',
  healthTimeoutS: 90,
  publicKey: join('.keys', 'bundle-ed25519.pub.pem'),
  parallel: 8,
  connectTimeoutS: 10,
};

export const flashCommand: Command = {
  name: 'flash',
  summary: 'put a bundle on boards over ssh (A/B slots, health check, automatic rollback)',
  usage: `Usage: glasses flash --board USER@HOST[:PORT] [--board ...] [--bundle FILE] [options]

For each board, over ssh: uploads the bundle into the slot that is not running (ROOT/slots/a or b),
checks its size and sha256, unpacks it and verifies its signature and checksums on the board against
ROOT/keys/bundle.pub.pem (with the verifier sent from here, not the one in the bundle), switches the
link ROOT/current to it in one rename, restarts the runtime and waits for its health report (the new
version, models loaded, mic open, loop running). If that does not come within --health-timeout-s the
board switches back and restarts the previous build by itself, even if the connection is gone.
ROOT/data is never touched. Boards are flashed in parallel; progress goes to stderr, then a summary
table (board, version, slot, result, seconds) to stdout. Exit 0 only when every board runs the new
build. Ctrl-C: boards not yet switched keep their slot; boards being switched roll back; a second
Ctrl-C stops waiting (the boards still finish by themselves).

Results: ok, refused (key, arch, upload or signature; unchanged), error (unreachable; unchanged),
aborted (Ctrl-C before the switch; unchanged), rolled-back, failed (no healthy build: look at the
board), unknown (contact lost after the switch).

Board:
  --board SPEC          user@host[:port], [user@]ssh-config-alias, user@[ipv6]:port; repeatable
  --bundle FILE         the bundle (default: the bundles/glasses-*-linux-*.tar.gz, one per
                        architecture: each board gets the one for its arch)
  --board-root DIR      the install root on the boards (default ${DEFAULTS.root}); the ssh user must
                        be able to write it (e.g. sudo install -d -o USER ${DEFAULTS.root})
  --node PATH           node on the boards (default ${DEFAULTS.node}, from the login PATH)
  --init systemd|script how the boards run the runtime (default ${DEFAULTS.init}): the glasses unit, or
                        the service script --provision installs where there is no systemd; it
                        gives the three commands below
  --restart-cmd CMD     run by sh on a board after a switch (systemd: "systemctl restart glasses",
                        through sudo -n unless root: a NOPASSWD sudoers line, as --provision writes)
  --status-cmd CMD      run by sh during the health wait: exit 0 while the runtime runs, 3 once it has
                        exited, which fails the flash at once ("" asks nothing)
  --log-cmd CMD         run by sh when a build fails: its last log lines go in the result ("" none)
  --health-file FILE    the runtime's health report on the boards (default ${DEFAULTS.healthFile})
  --health-timeout-s N  how long a new build has to report healthy (default ${DEFAULTS.healthTimeoutS})
  --provision           first make the board ready, as root there (ssh as root, or sudo -n): create
                        the service user, the board root (the ssh user's) and its data folder (0700),
                        install the glasses unit rendered for --board-root and --node and enable it
                        (--init script: the service script ${SERVICE_SCRIPT}), and a sudoers drop-in
                        allowing the ssh user exactly the restart, status and log commands; safe to
                        repeat
  --service-user NAME   the user the runtime runs as (default ${PROVISION_DEFAULTS.user}; created if missing)
  --service-script FILE where --init script's service script goes (default ${SERVICE_SCRIPT})
  --service-state-dir DIR  the service script's pid file and log (default ${PROVISION_DEFAULTS.stateDir})
  --unit-dir DIR        where the unit goes (default ${PROVISION_DEFAULTS.unitDir})
  --sudoers-dir DIR     where the sudoers drop-in goes (default ${PROVISION_DEFAULTS.sudoersDir})
  --provision-key       on a board that trusts no key yet, install --public-key first (a flash never
                        replaces a key a board already trusts)
  --public-key FILE     the bundle signing public key (default ${DEFAULTS.publicKey})
  --parallel N          boards at a time (default ${DEFAULTS.parallel})
  --json                one JSON line per board instead of the table

ssh (the system OpenSSH client, BatchMode: keys or agent only; your ~/.ssh/config applies):
  -i, --identity FILE   identity file
  -p, --port N          port for boards whose --board gives none (else ssh config, else 22)
  -F, --ssh-config FILE config file instead of ~/.ssh/config
  -o, --ssh-option OPT  an ssh -o option, e.g. StrictHostKeyChecking=accept-new; repeatable
  --connect-timeout-s N (default ${DEFAULTS.connectTimeoutS})
${COMMON_USAGE}`,

  async run({ argv, out }) {
    const { values, positionals } = parse('flash', argv, {
      board: { type: 'string', multiple: true },
      bundle: { type: 'string' },
      'board-root': { type: 'string' },
      node: { type: 'string' },
      init: { type: 'string' },
      'restart-cmd': { type: 'string' },
      'status-cmd': { type: 'string' },
      'log-cmd': { type: 'string' },
      'health-file': { type: 'string' },
      'health-timeout-s': { type: 'string' },
      provision: { type: 'boolean' },
      'service-user': { type: 'string' },
      'service-script': { type: 'string' },
      'service-state-dir': { type: 'string' },
      'unit-dir': { type: 'string' },
      'sudoers-dir': { type: 'string' },
      'provision-key': { type: 'boolean' },
      'public-key': { type: 'string' },
      parallel: { type: 'string' },
      json: { type: 'boolean' },
      identity: { type: 'string', short: 'i' },
      port: { type: 'string', short: 'p' },
      'ssh-config': { type: 'string', short: 'F' },
      'ssh-option': { type: 'string', short: 'o', multiple: true },
      'connect-timeout-s': { type: 'string' },
    });
    if (values.help === true) {
      out(this.usage);
      return 0;
    }
    if (positionals.length > 0) usage(`unexpected argument "${positionals[0] ?? ''}"`);
    const specs = values.board ?? [];
    if (specs.length === 0) usage('give at least one --board user@host');
    if (new Set(specs).size !== specs.length) usage('a --board is given twice');
    const healthTimeoutS = numberFlag('flash', 'health-timeout-s', values['health-timeout-s'], {
      min: 0.5,
      max: 3600,
    });
    const parallel = numberFlag('flash', 'parallel', values.parallel, { min: 1, max: 64, integer: true });
    const connectTimeoutS = numberFlag('flash', 'connect-timeout-s', values['connect-timeout-s'], {
      min: 1,
      max: 300,
      integer: true,
    });
    const port = numberFlag('flash', 'port', values.port, { min: 1, max: 65_535, integer: true });
    const root = values['board-root'] ?? DEFAULTS.root;
    if (!root.startsWith('/') || root === '/') usage(`--board-root ${root}: give an absolute folder below /`);
    const healthFile = values['health-file'] ?? DEFAULTS.healthFile;
    if (!healthFile.startsWith('/')) usage(`--health-file ${healthFile}: give an absolute path`);
    const init = values.init ?? DEFAULTS.init;
    if (!(INIT_SYSTEMS as readonly string[]).includes(init))
      usage(`--init ${init}: expected ${INIT_SYSTEMS.join(' or ')}`);
    for (const flag of ['service-script', 'service-state-dir', 'unit-dir', 'sudoers-dir'] as const) {
      const v = values[flag];
      if (v !== undefined && (!v.startsWith('/') || v === '/'))
        usage(`--${flag} ${v}: give an absolute path below /`);
    }
    const serviceScript = values['service-script'] ?? SERVICE_SCRIPT;
    const commands = initCommands(init as InitSystem, serviceScript);
    const ownRestart = values['restart-cmd'] !== undefined && values.init === undefined;
    const { log } = boot(values);

    const targets = specs
      .map(parseBoardTarget)
      .map((t) => (t.port === undefined && port !== undefined ? { ...t, port } : t));
    const signals = interruptSignals((line) => process.stderr.write(`${line}\n`));
    try {
      const bundleFiles = values.bundle === undefined ? await defaultBundles() : [values.bundle];
      const bundles = [];
      for (const file of bundleFiles) bundles.push(await readLocalBundle(file, signals.soft));
      const keyFile = values['public-key'] ?? DEFAULTS.publicKey;
      const provisionKeyPem = values['provision-key'] === true ? await readPublicKey(keyFile) : undefined;
      for (const bundle of bundles) {
        // A board given the wrong key would refuse this bundle and every later one, and a flash
        // never replaces a key: better to stop here.
        if (provisionKeyPem !== undefined && !signedBy(bundle, provisionKeyPem))
          throw new GlassesError(
            'E_FLASH_KEY',
            `${bundle.file} is not signed with the key in ${keyFile}; boards given that key would refuse it`,
          );
        process.stderr.write(
          `flash: ${bundle.file} (${bundle.version}, ${bundle.arch}, ${(bundle.bytes / 1e6).toFixed(1)} MB)${bundles.length > 1 ? ` to the ${bundle.arch} boards of` : ' to'} ${targets.length} board(s)\n`,
        );
      }
      const boards = targets.map(
        (target) =>
          new ShellBoard({
            shell: new SshShell(target, {
              ...(values['ssh-config'] === undefined ? {} : { configFile: values['ssh-config'] }),
              ...(values.identity === undefined ? {} : { identityFile: values.identity }),
              options: values['ssh-option'] ?? [],
              connectTimeoutS: connectTimeoutS ?? DEFAULTS.connectTimeoutS,
            }),
            root,
            node: values.node ?? DEFAULTS.node,
            healthFile,
            restartCmd: values['restart-cmd'] ?? commands.restart,
            // A restart command of one's own may run the runtime some other way: the init's
            // status would then speak of a unit that is not it.
            statusCmd: values['status-cmd'] ?? (ownRestart ? '' : commands.status),
            logCmd: values['log-cmd'] ?? (ownRestart ? '' : commands.log),
          }),
      );
      const healthTimeoutMs = (healthTimeoutS ?? DEFAULTS.healthTimeoutS) * 1000;
      const results = await flashAll(
        boards,
        bundles,
        {
          parallel: parallel ?? DEFAULTS.parallel,
          healthTimeoutMs,
          ...(provisionKeyPem === undefined ? {} : { provisionKeyPem }),
          ...(values.provision === true
            ? {
                provision: {
                  ...PROVISION_DEFAULTS,
                  init: init as InitSystem,
                  root,
                  user: values['service-user'] ?? PROVISION_DEFAULTS.user,
                  healthFile,
                  serviceScript,
                  ...(values['service-state-dir'] === undefined
                    ? {}
                    : { stateDir: values['service-state-dir'] }),
                  ...(values['unit-dir'] === undefined ? {} : { unitDir: values['unit-dir'] }),
                  ...(values['sudoers-dir'] === undefined ? {} : { sudoersDir: values['sudoers-dir'] }),
                },
              }
            : {}),
          // The board-side watch may take the timeout twice (new build, then the rollback) and
          // two restarts; reconnecting for longer than that finds its result.
          reconnectForMs: 2 * healthTimeoutMs + 120_000,
          reconnectDelayMs: 2000,
          now: () => performance.now(),
          sleep: (ms, signal) => sleep(ms, undefined, { signal }),
          newId: () => `${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`,
        },
        progressPrinter((line) => process.stderr.write(`${line}\n`)),
        signals,
      );
      for (const r of results) log.debug({ board: r.board, outcome: r.outcome, error: r.error }, 'flashed');
      if (values.json === true) for (const r of results) out(resultJson(r));
      else out(summaryTable(results));
      return results.every((r) => r.outcome === 'ok') ? 0 : 1;
    } finally {
      signals.dispose();
    }
  },
};

function usage(why: string): never {
  throw usageError('flash', why);
}

/**
 * The bundles in `dir` (`glasses build` writes to BUNDLES_DIR): the only one, or one per architecture
 * (each board then gets its own arch's), else E_USAGE saying what to do.
 */
export async function defaultBundles(dir = BUNDLES_DIR): Promise<string[]> {
  const names = await fs.readdir(dir).then(
    (all) => all.filter((n) => BUNDLE_NAME.test(n)).sort(),
    () => [],
  );
  if (names.length === 0)
    usage(`no glasses-*-linux-*.tar.gz in ${dir}; build one (glasses build) or give --bundle`);
  const archOf = (n: string): string => BUNDLE_NAME.exec(n)?.[1] ?? '';
  const clash = names.filter((n, i) => names.some((m, j) => j !== i && archOf(m) === archOf(n)));
  if (clash.length > 0)
    usage(
      `several ${archOf(clash[0] ?? '')} bundles in ${dir} (${clash.join(', ')}); pick one with --bundle`,
    );
  return names.map((n) => join(dir, n));
}

const BUNDLE_NAME = /^glasses-.+-linux-(arm64|x64)\.tar\.gz$/;

async function readPublicKey(file: string): Promise<string> {
  let pem: string;
  try {
    pem = await fs.readFile(file, 'utf8');
  } catch (err) {
    usage(`--public-key ${file}: cannot be read (${err instanceof Error ? err.message : String(err)})`);
  }
  if (!pem.includes('BEGIN PUBLIC KEY')) usage(`--public-key ${file}: not a PEM public key`);
  return pem;
}

/**
 * Ctrl-C once: `soft` aborts (stop before a switch, roll back a switch in progress). Twice: `hard`
 * aborts too (stop waiting for boards). SIGTERM counts as twice: whoever sent it will not wait.
 */
function interruptSignals(say: (line: string) => void): FlashSignals & { dispose(): void } {
  const soft = new AbortController();
  const hard = new AbortController();
  const onInt = (): void => {
    if (!soft.signal.aborted) {
      say(
        'flash: stopping: boards not yet switched keep their slot, boards being switched roll back (Ctrl-C again to stop waiting)',
      );
      soft.abort();
    } else hard.abort();
  };
  const onTerm = (): void => {
    soft.abort();
    hard.abort();
  };
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onTerm);
  return {
    soft: soft.signal,
    hard: hard.signal,
    dispose: () => {
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
    },
  };
}
