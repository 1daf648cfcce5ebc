/**
 * A Board driven by POSIX sh scripts over a RemoteShell (ssh). Each step is one connection: inspect,
 * receive (upload + verify + install into the inactive slot), activate (a detached switch-and-watch,
 * followed). The board needs sh, tar with gzip, and the node the runtime runs on; flock and setsid
 * are used when present.
 */
import type {
  ActivationEvent,
  ActivationPlan,
  ActivationResult,
  Board,
  BoardInfo,
  ReceiveEvent,
  Slot,
} from './board.js';
import type { LocalBundle } from './bundle-file.js';
import { type FlashErrorCode } from './errors.js';
import { provisionScript, type BoardFacts, type ProvisionPlan } from './provision.js';
import { activateScript, inspectScript, verifierScript } from './scripts.js';
import { shQuote, type RemoteResult, type RemoteShell } from './shell.js';
import { GlassesError } from '../errors.js';

export interface ShellBoardOptions {
  shell: RemoteShell;
  /** The board's install root (default /opt/glasses). */
  root: string;
  /** The board's node (default `node` from the login PATH). */
  node: string;
  /** The runtime's health report on the board (config health.file there). */
  healthFile: string;
  /** Run on the board, by sh, to restart the runtime after a switch. */
  restartCmd: string;
  /** Run by sh on the board during the health wait: exit 0 running, 3 exited (see activate.ts). */
  statusCmd?: string;
  /** Run by sh on the board when a build fails: prints the runtime's last log lines. */
  logCmd?: string;
  restartTimeoutMs?: number;
  /** How often the board-side watch reads the health file. */
  pollMs?: number;
}

/** Exit statuses of the scripts below, and the error each one means. */
const EXIT: Record<number, FlashErrorCode> = {
  20: 'E_FLASH_BOARD', // root not writable
  21: 'E_FLASH_BOARD', // locked, or the target slot is the active one
  22: 'E_FLASH_KEY',
  30: 'E_FLASH_UPLOAD', // size
  31: 'E_FLASH_UPLOAD', // sha256
  32: 'E_FLASH_VERIFY', // does not extract, no manifest
  40: 'E_FLASH_VERIFY', // signature or checksums
  50: 'E_FLASH_BOARD', // no node
  60: 'E_FLASH_ABORTED', // cancelled before the switch
  70: 'E_FLASH_PROVISION', // no root, no sudo
  71: 'E_FLASH_PROVISION', // no useradd
  72: 'E_FLASH_PROVISION', // systemctl
  73: 'E_FLASH_PROVISION', // visudo
};

const VERIFY_EOF = '__GLASSES_VERIFIER_EOF__';

/**
 * Judges the verifier's JSON line (bundle/verify.ts) on the board: ok, and the version and arch the
 * flashing machine read from the same tarball. Plain CommonJS for `node -e`.
 */
const CHECK_VERDICT = `
const [file, version, arch] = process.argv.slice(1);
let r = null;
try { r = JSON.parse(require('fs').readFileSync(file, 'utf8')); } catch {}
if (r === null || r.ok !== true) {
  console.error(r !== null && typeof r.error === 'string' ? r.error : 'the verifier gave no verdict');
  process.exit(1);
}
if (r.version !== version || r.arch !== arch) {
  console.error('the signed manifest says ' + r.version + '/' + r.arch + ', the tarball sent says ' + version + '/' + arch);
  process.exit(1);
}`;

function assign(vars: Record<string, string>): string {
  return Object.entries(vars)
    .map(([k, v]) => `${k}=${shQuote(v)}`)
    .join('\n');
}

const PRELUDE = `set -eu
die() { code=$1; shift; printf '%s\\n' "$*" >&2; exit "$code"; }
# Held until this script (and, for activate, the detached watch) exits, so two flashes of one board
# cannot interleave. Boards without flock go unlocked.
lock() {
  mkdir -p "$root/.flash" 2>/dev/null || die 20 "cannot create $root/.flash: is $root writable by $(id -un)?"
  exec 9>>"$root/.flash/lock"
  if command -v flock >/dev/null 2>&1; then
    flock -n 9 || die 21 "another flash is running on this board (lock $root/.flash/lock)"
  fi
}`;

export class ShellBoard implements Board {
  readonly label: string;

  constructor(private readonly o: ShellBoardOptions) {
    this.label = o.shell.label;
  }

  private vars(extra: Record<string, string> = {}): string {
    return assign({ root: this.o.root, node: this.o.node, ...extra });
  }

  private fail(what: string, r: RemoteResult, otherwise: FlashErrorCode = 'E_FLASH_BOARD'): never {
    const why = r.stderr.trim().split('\n').slice(-4).join('; ') || `exit ${r.code}`;
    throw new GlassesError(EXIT[r.code] ?? otherwise, `${this.label}: ${what}: ${why}`, {
      details: { board: this.label, exit: r.code },
    });
  }

  async inspect(signal: AbortSignal): Promise<BoardInfo> {
    const script = `${PRELUDE}
${this.vars({ health: this.o.healthFile })}
command -v "$node" >/dev/null 2>&1 || die 50 "no node at '$node' on the board (PATH=$PATH); give --node"
exec "$node" --input-type=module - "$root" "$health"`;
    const r = await this.o.shell.run(script, { stdin: await inspectScript(), signal });
    if (r.code !== 0) this.fail('cannot inspect the board', r);
    const line = r.stdout.trim().split('\n').pop() ?? '';
    try {
      return JSON.parse(line) as BoardInfo;
    } catch {
      throw new GlassesError('E_FLASH_BOARD', `${this.label}: the board's inspection is not JSON: ${line}`);
    }
  }

  async provision(plan: ProvisionPlan, signal: AbortSignal): Promise<void> {
    const ask = `${PRELUDE}
${this.vars()}
command -v "$node" >/dev/null 2>&1 || die 50 "no node at '$node' on the board (PATH=$PATH); give --node"
printf 'flasher=%s\\n' "$(id -un)"
printf 'node=%s\\n' "$(command -v "$node")"
printf 'systemctl=%s\\n' "$(command -v systemctl || true)"
printf 'journalctl=%s\\n' "$(command -v journalctl || true)"`;
    const r = await this.o.shell.run(ask, { signal });
    if (r.code !== 0) this.fail('cannot provision the board', r);
    const said = new Map(
      r.stdout
        .split('\n')
        .map((l) => l.split('='))
        .map(([k = '', ...v]) => [k, v.join('=')] as const),
    );
    const facts: BoardFacts = {
      flasher: said.get('flasher') ?? '',
      node: said.get('node') ?? '',
      systemctl: said.get('systemctl') || null,
      journalctl: said.get('journalctl') || null,
    };
    // Everything else runs as root there: ssh as root, or sudo without a password (no terminal).
    const run = await this.o.shell.run(
      `if [ "$(id -u)" = 0 ]; then exec sh -s; fi
command -v sudo >/dev/null 2>&1 || { echo "provisioning needs root: ssh as root, or install sudo" >&2; exit 70; }
exec sudo -n sh -s || exit 70`,
      { stdin: provisionScript(plan, facts), signal },
    );
    if (run.code !== 0 || !run.stdout.split('\n').includes('provisioned'))
      this.fail('cannot provision the board', run, 'E_FLASH_PROVISION');
  }

  async provisionKey(publicKeyPem: string, signal: AbortSignal): Promise<void> {
    const script = `${PRELUDE}
${this.vars()}
mkdir -p "$root/keys" 2>/dev/null || die 20 "cannot create $root/keys: is $root writable by $(id -un)?"
[ ! -e "$root/keys/bundle.pub.pem" ] || die 22 "$root/keys/bundle.pub.pem exists; a flash never replaces a trusted key"
cat > "$root/keys/.bundle.pub.pem.tmp"
mv "$root/keys/.bundle.pub.pem.tmp" "$root/keys/bundle.pub.pem"`;
    const r = await this.o.shell.run(script, { stdin: publicKeyPem, signal });
    if (r.code !== 0) this.fail('cannot provision the key', r);
  }

  async receive(
    slot: Slot,
    bundle: LocalBundle,
    onEvent: (e: ReceiveEvent) => void,
    signal: AbortSignal,
  ): Promise<void> {
    const verifier = await verifierScript();
    if (verifier.split('\n').includes(VERIFY_EOF))
      throw new Error(`the verifier's text holds the here-document end marker ${VERIFY_EOF}`);
    const script = `${PRELUDE}
${this.vars({
  slot,
  size: String(bundle.bytes),
  sha: bundle.sha256,
  top: bundle.topName,
  version: bundle.version,
  arch: bundle.arch,
  check: CHECK_VERDICT,
})}
mkdir -p "$root/slots" 2>/dev/null || die 20 "cannot create $root/slots: is $root writable by $(id -un)?"
lock
[ -s "$root/keys/bundle.pub.pem" ] || die 22 "no trusted key at $root/keys/bundle.pub.pem"
cur=$(readlink "$root/current" 2>/dev/null || true)
[ "\${cur%/}" != "slots/$slot" ] && [ "\${cur%/}" != "$root/slots/$slot" ] || die 21 "slot $slot is the active one (current -> $cur)"
inc="$root/.flash/incoming"
# A previous upload cut off halfway leaves its temp folder; nothing ever points into it.
rm -rf "$inc"
mkdir "$inc"
trap 'rm -rf "$inc"' EXIT
trap 'exit 129' HUP INT TERM PIPE
cat > "$inc/bundle.tar.gz"
got=$(wc -c < "$inc/bundle.tar.gz" | tr -d ' ')
[ "$got" = "$size" ] || die 30 "the upload is $got bytes, the file sent is $size (connection cut, or the stream altered)"
if command -v sha256sum >/dev/null 2>&1; then sum=$(sha256sum "$inc/bundle.tar.gz" | cut -c1-64)
else sum=$("$node" -e "process.stdout.write(require('crypto').createHash('sha256').update(require('fs').readFileSync(process.argv[1])).digest('hex'))" "$inc/bundle.tar.gz"); fi
[ "$sum" = "$sha" ] || die 31 "the upload's sha256 is $sum, the file sent has $sha"
echo "step verifying"
mkdir "$inc/x"
tar -xzf "$inc/bundle.tar.gz" -C "$inc/x" 2>"$inc/tar.err" || die 32 "the tarball does not extract: $(tail -n 2 "$inc/tar.err")"
rm -f "$inc/bundle.tar.gz"
[ -f "$inc/x/$top/MANIFEST.json" ] || die 32 "no $top/MANIFEST.json in the tarball"
# The verifier comes from the flashing machine, never from the bundle it is about to judge.
cat > "$inc/verify.mjs" <<'${VERIFY_EOF}'
${verifier}
${VERIFY_EOF}
"$node" --input-type=module - "$inc/x/$top" "$root/keys/bundle.pub.pem" < "$inc/verify.mjs" > "$inc/verdict.json" 2>"$inc/verify.err" || true
"$node" -e "$check" "$inc/verdict.json" "$version" "$arch" 2>"$inc/check.err" || die 40 "refused: $(cat "$inc/check.err") $(tail -n 2 "$inc/verify.err")"
echo "step installing"
rm -rf "$root/slots/$slot"
mv "$inc/x/$top" "$root/slots/$slot"
# On flash storage a rename can reach the disk before the files it names; a power cut after the
# switch must not find a half-written slot.
sync
echo "installed"`;
    let last = -1;
    const r = await this.o.shell.run(script, {
      stdin: () => bundle.open(),
      signal,
      onStdinBytes: (sentBytes) => {
        // Reported at most every 1% (a 100 MB upload arrives in ~1500 chunks).
        if (sentBytes === bundle.bytes || sentBytes - last >= bundle.bytes / 100) {
          last = sentBytes;
          onEvent({ type: 'upload', sentBytes });
        }
      },
      onStdoutLine: (line) => {
        if (line === 'step verifying' || line === 'step installing')
          onEvent({ type: 'step', step: line === 'step verifying' ? 'verifying' : 'installing' });
      },
    });
    if (r.code !== 0) this.fail(`slot ${slot} refused the bundle`, r);
    if (!r.stdout.split('\n').includes('installed'))
      throw new GlassesError(
        'E_FLASH_SSH',
        `${this.label}: the connection ended before the install was confirmed`,
      );
  }

  async activate(
    plan: ActivationPlan,
    onEvent: (e: ActivationEvent) => void,
    signal: AbortSignal,
  ): Promise<ActivationResult> {
    const request = JSON.stringify({
      root: this.o.root,
      slot: plan.slot,
      previousSlot: plan.previousSlot,
      version: plan.version,
      previousVersion: plan.previousVersion,
      healthFile: this.o.healthFile,
      timeoutMs: plan.timeoutMs,
      restartCmd: this.o.restartCmd,
      ...(this.o.statusCmd === undefined ? {} : { statusCmd: this.o.statusCmd }),
      ...(this.o.logCmd === undefined ? {} : { logCmd: this.o.logCmd }),
      restartTimeoutMs: this.o.restartTimeoutMs ?? 60_000,
      pollMs: this.o.pollMs ?? 200,
    });
    const script = `${PRELUDE}
${this.vars({ id: plan.id, request })}
lock
dir="$root/.flash/activations/$id"
mkdir -p "$root/.flash/activations"
for old in "$root/.flash/activations"/*; do [ "$old" = "$dir" ] || rm -rf "$old"; done
# A Ctrl-C on the flashing machine may have left its cancel here before we got this far.
mkdir -p "$dir"
[ ! -e "$dir/cancel" ] || die 60 "cancelled before the switch"
cat > "$dir/activate.tmp"
printf '%s\\n' "$request" > "$dir/request.json"
mv "$dir/activate.tmp" "$dir/activate.mjs"
# Its own session, stdio on files: the watch outlives this connection and holds the lock (fd 9).
if command -v setsid >/dev/null 2>&1; then
  setsid "$node" "$dir/activate.mjs" run "$dir" </dev/null >/dev/null 2>>"$dir/stderr" &
else
  nohup "$node" "$dir/activate.mjs" run "$dir" </dev/null >/dev/null 2>>"$dir/stderr" &
fi
exec "$node" "$dir/activate.mjs" follow "$dir" 0 9>&-`;
    return this.followWith(script, await activateScript(), onEvent, signal, 'cannot start the switch');
  }

  async follow(
    id: string,
    fromSeq: number,
    onEvent: (e: ActivationEvent) => void,
    signal: AbortSignal,
  ): Promise<ActivationResult> {
    const script = `${PRELUDE}
${this.vars({ id, from: String(fromSeq) })}
dir="$root/.flash/activations/$id"
if [ ! -d "$dir" ]; then
  printf '%s\\n' '{"seq":'"$from"',"t":"result","result":"not-started","slot":null,"version":null,"reason":"the board has no such switch"}'
  exit 0
fi
exec "$node" --input-type=module - follow "$dir" "$from"`;
    return this.followWith(script, await activateScript(), onEvent, signal, 'cannot follow the switch');
  }

  async cancel(id: string, signal: AbortSignal): Promise<void> {
    const script = `${PRELUDE}
${this.vars({ id })}
dir="$root/.flash/activations/$id"
# Made even if the switch has not started yet: it then never will.
mkdir -p "$dir"
: > "$dir/cancel"`;
    const r = await this.o.shell.run(script, { signal });
    if (r.code !== 0) this.fail('cannot cancel the switch', r);
  }

  private async followWith(
    script: string,
    stdin: string,
    onEvent: (e: ActivationEvent) => void,
    signal: AbortSignal,
    what: string,
  ): Promise<ActivationResult> {
    let result: ActivationResult | undefined;
    const r = await this.o.shell.run(script, {
      stdin,
      signal,
      onStdoutLine: (line) => {
        let e: unknown;
        try {
          e = JSON.parse(line);
        } catch {
          return;
        }
        if (typeof e !== 'object' || e === null || !('t' in e) || !('seq' in e)) return;
        if (e.t === 'result') result = e as unknown as ActivationResult;
        else onEvent(e as ActivationEvent);
      },
    });
    if (result !== undefined) return result;
    if (r.code !== 0) this.fail(what, r);
    throw new GlassesError('E_FLASH_SSH', `${this.label}: the connection ended before the switch's result`);
  }
}
