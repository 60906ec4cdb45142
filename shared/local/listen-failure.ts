/**
 * Why the local host could not take its port, in one line a developer can act on, or
 * null when the failure is not about the port (then its stack is worth printing).
 * Node's own EADDRINUSE is a stack trace that names neither the setting nor a way out.
 */
export function listenFailure(error: unknown, port: number): string | null {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  if (code === "EADDRINUSE")
    return `Port ${port} is in use (another npm start?). Stop what listens there, or pick another port: PORT=${port === 7300 ? 7301 : 7300} npm start`;
  if (code === "EACCES") return `Port ${port} needs privileges this process does not have. Pick a port above 1023: PORT=7300 npm start`;
  return null;
}
