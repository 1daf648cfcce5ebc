/**
 * What `glasses flash --provision` puts on a board before its first flash, rendered here and
 * installed by a root script (provisionScript) over the same RemoteShell as the flash:
 *   the service user (created unless it exists), the board root (the flashing user's) and its data
 *   folder (the service user's, 0700); for systemd the unit (assets/board/glasses.service rendered
 *   for the board's root, node and user), enabled; for `script` the service script the init system
 *   or the flash calls (restart, start, stop, status, log); and a sudoers drop-in allowing the
 *   flashing user exactly the restart, status and log commands, checked with `visudo -c` where the
 *   board has it. Every step is idempotent: provisioning again re-renders and changes nothing else.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { GlassesError } from '../errors.js';
import { PACKAGE_ROOT } from '../paths.js';
import { LOG_LINES, UNIT, type InitSystem } from './init.js';
import { shQuote } from './shell.js';

export interface ProvisionPlan {
  init: InitSystem;
  root: string;
  /** The service user; created when it does not exist. */
  user: string;
  /** The entry point under `current`, and its arguments. */
  entry: readonly string[];
  /** The runtime's health report (the flash's --health-file). */
  healthFile: string;
  /** Where the unit goes (systemd). */
  unitDir: string;
  /** Where the service script goes (script); root's, outside the board root. */
  serviceScript: string;
  /** The script's pid file and log, root's (the service user must not name what root kills). */
  stateDir: string;
  sudoersDir: string;
}

export const PROVISION_DEFAULTS = {
  user: 'glasses',
  entry: ['dist/firmware-ts/src/cli.js', 'run', '--service'],
  unitDir: '/etc/systemd/system',
  stateDir: '/run/glasses-service',
  sudoersDir: '/etc/sudoers.d',
} as const;

/** What the board says about itself before anything is rendered. */
export interface BoardFacts {
  /** The ssh user, who flashes and gets the sudoers line. */
  flasher: string;
  /** The board's node as a full path (systemd and sudo want one). */
  node: string;
  /** Full paths of systemctl and journalctl, for the sudoers line (systemd only). */
  systemctl: string | null;
  journalctl: string | null;
}

/** Paths and names go into unit files, sh and sudoers: nothing that any of them would read twice. */
const SAFE_PATH = /^\/[A-Za-z0-9._/+-]*$/;
const SAFE_NAME = /^[a-z_][a-z0-9_-]{0,31}$/;

function checked(what: string, value: string, re: RegExp): string {
  if (!re.test(value) || value.includes('/../') || value.endsWith('/..'))
    throw new GlassesError(
      'E_FLASH_PROVISION',
      `${what} ${JSON.stringify(value)}: provisioning takes only letters, digits and . _ - + / here ` +
        '(it goes into the systemd unit, a shell script and sudoers)',
    );
  return value;
}

export const dataDir = (root: string): string => `${root}/data`;

/** The systemd unit for this board: the shipped one with its root, node and user. */
export function renderUnit(plan: ProvisionPlan, facts: BoardFacts, template?: string): string {
  const root = checked('--board-root', plan.root, SAFE_PATH);
  const node = checked('node', facts.node, SAFE_PATH);
  const user = checked('--service-user', plan.user, SAFE_NAME);
  const health = checked('--health-file', plan.healthFile, SAFE_PATH);
  const entry = plan.entry.map((e) => checked('entry', e, /^[A-Za-z0-9._/+-]+$/));
  const text =
    template ?? readFileSync(join(PACKAGE_ROOT, 'firmware-ts', 'assets', 'board', 'glasses.service'), 'utf8');
  return text
    .replace(/^ExecStart=.*$/m, `ExecStart=${node} ${root}/current/${entry.join(' ')}`)
    .replace(/^User=.*$/m, `User=${user}`)
    .replace(/^Group=.*$/m, `Group=${user}`)
    .replace(/^Environment=GLASSES_HEALTH__FILE=.*$/m, `Environment=GLASSES_HEALTH__FILE=${health}`)
    .replaceAll('/opt/glasses', root);
}

/** The service script for boards without systemd: what the unit does, in sh. Run as root. */
export function renderServiceScript(plan: ProvisionPlan, facts: BoardFacts): string {
  const root = checked('--board-root', plan.root, SAFE_PATH);
  const node = checked('node', facts.node, SAFE_PATH);
  const user = checked('--service-user', plan.user, SAFE_NAME);
  const health = checked('--health-file', plan.healthFile, SAFE_PATH);
  const state = checked('state folder', plan.stateDir, SAFE_PATH);
  const [main = '', ...args] = plan.entry.map((e) => checked('entry', e, /^[A-Za-z0-9._/+-]+$/));
  return `#!/bin/sh
# The glasses runtime without systemd, installed by \`glasses flash --provision --init script\`:
#   restart | start | stop | status (0 running, 3 not) | log (its last ${LOG_LINES} lines)
# An init system (runit, OpenRC, s6) or the flash calls it as root; the runtime runs as ${user}.
set -eu
root=${root}
node=${node}
user=${user}
data=${dataDir(root)}
health=${health}
state=${state}
pidfile="$state/runtime.pid"
logfile="$state/runtime.log"
# A zombie (an orphan PID 1 has not reaped yet) has stopped all the same.
running() {
  [ -f "$pidfile" ] || return 1
  s=$(ps -o stat= -p "$(cat "$pidfile")" 2>/dev/null) || return 1
  case "$s" in Z*) return 1 ;; esac
}
stop() {
  running || return 0
  kill "$(cat "$pidfile")" 2>/dev/null || true
  i=0
  # The runtime ends its loop on SIGTERM; past 15 s (the unit's TimeoutStopSec) it is killed.
  while running && [ "$i" -lt 150 ]; do sleep 0.1; i=$((i + 1)); done
  if running; then kill -9 "$(cat "$pidfile")" 2>/dev/null || true; fi
  rm -f "$pidfile"
}
start() {
  mkdir -p "$state" "$(dirname "$health")"
  chmod 0755 "$state"
  # What root keeps (pid, log) apart from what the runtime writes (its health report).
  [ "$(id -un)" = "$user" ] || chown "$user" "$(dirname "$health")"
  # The per-board settings file is read as the service user, never by root.
  set -- sh -c 'cd "$1" && if [ -f glasses.env ]; then set -a; . ./glasses.env; set +a; fi; shift; exec "$@"' \\
    glasses "$data" env GLASSES_HEALTH__FILE="$health" NODE_ENV=production "$node" "$root/current/${main}"${args.map((a) => ` ${a}`).join('')}
  if [ "$(id -un)" != "$user" ]; then
    if command -v setpriv >/dev/null 2>&1; then set -- setpriv --reuid="$user" --regid="$user" --init-groups "$@"
    else set -- su -s /bin/sh "$user" -c '"$0" "$@"' "$@"; fi
  fi
  nohup "$@" </dev/null >>"$logfile" 2>&1 &
  echo $! > "$pidfile"
}
case "\${1:-}" in
  restart) stop; start ;;
  start) running || start ;;
  stop) stop ;;
  status) if running; then exit 0; fi; echo "not running"; exit 3 ;;
  log) tail -n ${LOG_LINES} "$logfile" 2>/dev/null || true ;;
  *) echo "usage: $0 restart|start|stop|status|log" >&2; exit 2 ;;
esac
`;
}

/** The commands the flashing user may run as root, with their arguments, and nothing else. */
export function sudoCommands(plan: ProvisionPlan, facts: BoardFacts): string[] {
  if (plan.init === 'script') {
    const script = checked('service script', plan.serviceScript, SAFE_PATH);
    return ['restart', 'status', 'log'].map((a) => `${script} ${a}`);
  }
  if (facts.systemctl === null)
    throw new GlassesError('E_FLASH_PROVISION', 'the board has no systemctl; give --init script');
  const systemctl = checked('systemctl', facts.systemctl, SAFE_PATH);
  const out = [`${systemctl} restart ${UNIT}`];
  if (facts.journalctl !== null)
    out.push(
      `${checked('journalctl', facts.journalctl, SAFE_PATH)} -u ${UNIT} -n ${LOG_LINES} --no-pager -o cat`,
    );
  return out;
}

export function renderSudoers(plan: ProvisionPlan, facts: BoardFacts): string {
  const flasher = checked('ssh user', facts.flasher, SAFE_NAME);
  return `# Installed by \`glasses flash --provision\`: ${flasher} flashes this board over ssh (no terminal,
# so no password) and may run exactly these as root.
${flasher} ALL=(root) NOPASSWD: ${sudoCommands(plan, facts).join(', ')}
`;
}

/** The command that creates the service user: a system account, no login, home its data folder. */
export function userAddCommand(user: string, home: string): string {
  const u = shQuote(checked('--service-user', user, SAFE_NAME));
  const h = shQuote(checked('data folder', home, SAFE_PATH));
  return `if command -v useradd >/dev/null 2>&1; then useradd --system --user-group --home-dir ${h} --no-create-home --shell /usr/sbin/nologin ${u}
elif command -v adduser >/dev/null 2>&1; then addgroup -S ${u} && adduser -S -D -H -h ${h} -s /sbin/nologin -G ${u} ${u}
else die 71 "no useradd or adduser to create the service user ${user}"; fi`;
}

/**
 * The root part, as sh: user, folders, init files, sudoers. Files are written beside their place and
 * renamed in, so a cut connection leaves the old file or the new, never half of one.
 */
export function provisionScript(plan: ProvisionPlan, facts: BoardFacts): string {
  const data = dataDir(plan.root);
  const v = (k: string, val: string): string => `${k}=${shQuote(val)}`;
  const lines = [
    'set -eu',
    `die() { code=$1; shift; printf '%s\\n' "$*" >&2; exit "$code"; }`,
    v('root', checked('--board-root', plan.root, SAFE_PATH)),
    v('data', data),
    v('user', checked('--service-user', plan.user, SAFE_NAME)),
    v('flasher', checked('ssh user', facts.flasher, SAFE_NAME)),
    'umask 022',
    `id -u "$user" >/dev/null 2>&1 || { ${userAddCommand(plan.user, data)}; }`,
    'group=$(id -gn "$user")',
    // The flashing user writes slots, keys and .flash; the runtime only its data, which nobody else reads.
    'install -d -o "$flasher" -m 0755 "$root" "$root/slots" "$root/keys"',
    'install -d -o "$user" -g "$group" -m 0700 "$data"',
    // put FILE MODE: stdin to FILE, through a temp name beside it.
    'put() { tmp="$1.provision-$$"; cat > "$tmp"; chmod "$2" "$tmp"; chown root:0 "$tmp" 2>/dev/null || true; mv -f "$tmp" "$1"; }',
  ];
  if (plan.init === 'systemd') {
    const unitFile = `${checked('unit folder', plan.unitDir, SAFE_PATH)}/${UNIT}.service`;
    lines.push(
      `mkdir -p ${shQuote(plan.unitDir)}`,
      `printf '%s' ${shQuote(renderUnit(plan, facts))} | put ${shQuote(unitFile)} 0644`,
      `systemctl daemon-reload && systemctl enable ${UNIT} >/dev/null 2>&1 || die 72 "systemctl could not enable ${UNIT}"`,
    );
  } else {
    const script = checked('service script', plan.serviceScript, SAFE_PATH);
    lines.push(
      `mkdir -p "$(dirname ${shQuote(script)})"`,
      `printf '%s' ${shQuote(renderServiceScript(plan, facts))} | put ${shQuote(script)} 0755`,
    );
  }
  if (facts.flasher !== 'root') {
    const dropIn = `${checked('sudoers folder', plan.sudoersDir, SAFE_PATH)}/glasses`;
    // sudo skips names with a dot, so the temp file is ignored until it is checked and renamed.
    lines.push(
      `mkdir -p ${shQuote(plan.sudoersDir)}`,
      `tmp=${shQuote(`${dropIn}.provision`)}`,
      `printf '%s' ${shQuote(renderSudoers(plan, facts))} > "$tmp"`,
      'chmod 0440 "$tmp"',
      'if command -v visudo >/dev/null 2>&1; then visudo -cqf "$tmp" >&2 || { rm -f "$tmp"; die 73 "visudo refused the sudoers drop-in"; }; fi',
      `mv -f "$tmp" ${shQuote(dropIn)}`,
    );
  }
  lines.push('echo provisioned');
  return lines.join('\n');
}
