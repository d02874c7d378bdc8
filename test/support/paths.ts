import { fileURLToPath } from 'node:url';

/** Shared fixtures live in node_modules/.cache, so `npm ci` starts every CI run afresh. */
export const REPO = fileURLToPath(new URL('../../', import.meta.url));
export const FIXTURE_CACHE = `${REPO}node_modules/.cache/ecs-host-agent-tests`;
export const DEBIAN_ROOT = `${FIXTURE_CACHE}/debian-bookworm`;
export const DEBIAN_ROOT_READY = `${FIXTURE_CACHE}/debian-bookworm.ready`;
/** The same release with systemd, dbus and systemd-sysv: booted as a container with systemd as PID 1. */
export const SYSTEMD_ROOT = `${FIXTURE_CACHE}/debian-bookworm-systemd`;
export const SYSTEMD_ROOT_READY = `${FIXTURE_CACHE}/debian-bookworm-systemd.ready`;
export const FIXTURES = `${REPO}test/fixtures`;
export const CLI = `${REPO}src/cli/main.ts`;
