/**
 * How a board's init system restarts the runtime, tells whether it still runs, and shows its log:
 * the commands the board-side watch runs by sh (flash/board/activate.ts). `systemd` drives the unit
 * that provisioning installs (assets/board/glasses.service); `script` drives the service script it
 * installs instead where there is no systemd (runit, OpenRC, s6 or nothing call the same script).
 */
import { shQuote } from './shell.js';

export type InitSystem = 'systemd' | 'script';

export const INIT_SYSTEMS: readonly InitSystem[] = ['systemd', 'script'];

export interface InitCommands {
  restart: string;
  /** Exit 0 while the runtime runs, 3 once it has exited, anything else when it cannot tell. */
  status: string;
  /** The runtime's last log lines. */
  log: string;
}

/** The unit provisioning installs; one per board. */
export const UNIT = 'glasses';

/** Where provisioning installs the service script for `--init script` (outside the board root: root runs it). */
export const SERVICE_SCRIPT = '/usr/local/sbin/glasses-service';

/** Lines of the runtime's log quoted in a failed flash's result. */
export const LOG_LINES = 20;

/** As root, or through sudo (the provisioned sudoers drop-in allows exactly these commands). */
const privileged = (cmd: string): string => `if [ "$(id -u)" = 0 ]; then ${cmd}; else sudo -n ${cmd}; fi`;

/**
 * systemd: a build that dies at start leaves the unit failed, or auto-restarting (Restart=on-failure),
 * or running again with NRestarts above 0 (a manual restart resets it).
 */
export function systemdStatusCmd(unit = UNIT): string {
  return `s=$(systemctl show ${shQuote(unit)} -p LoadState -p ActiveState -p SubState -p NRestarts 2>&1) || { printf '%s\\n' "$s" >&2; exit 4; }
case "$s" in *LoadState=loaded*) ;; *) printf '%s\\n' "$s" >&2; exit 4 ;; esac
a=$(printf '%s\\n' "$s" | sed -n 's/^ActiveState=//p')
u=$(printf '%s\\n' "$s" | sed -n 's/^SubState=//p')
n=$(printf '%s\\n' "$s" | sed -n 's/^NRestarts=//p')
case "$a/$u" in active/*|reloading/*|activating/start*) [ "\${n:-0}" = 0 ] && exit 0 ;; esac
echo "${unit}.service is $a ($u), restarted \${n:-0} times"
exit 3`;
}

export function initCommands(init: InitSystem, serviceScript = SERVICE_SCRIPT): InitCommands {
  if (init === 'systemd')
    return {
      restart: privileged(`systemctl restart ${UNIT}`),
      status: systemdStatusCmd(),
      log: privileged(`journalctl -u ${UNIT} -n ${LOG_LINES} --no-pager -o cat`),
    };
  const script = shQuote(serviceScript);
  return {
    restart: privileged(`${script} restart`),
    status: privileged(`${script} status`),
    log: privileged(`${script} log`),
  };
}
