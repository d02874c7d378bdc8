/**
 * The command is done: a command it left to finish, or the timer of a wait
 * it abandoned, must not keep the process alive. The timer does not hold the
 * process itself; when something else does, it ends it with the exit code set.
 */
export function exitOnceDone(): void {
  setTimeout(() => process.exit(), 0).unref();
}
