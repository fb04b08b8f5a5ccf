/**
 * A table, queue or container made (if it is not there yet) once per process, on first use: every user
 * waits for the one creation, and a failed one is forgotten so that the next use tries again.
 */
export class CreatedOnce {
  #created: Promise<unknown> | undefined;

  constructor(private readonly create: () => Promise<unknown>) {}

  async ensure(): Promise<void> {
    this.#created ??= this.create().catch((error: unknown) => {
      this.#created = undefined;
      throw error;
    });
    await this.#created;
  }
}
