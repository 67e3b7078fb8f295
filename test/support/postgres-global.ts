import type { TestProject } from "vitest/node";
import { type PgCluster, startPgCluster } from "./postgres.js";

/** Where the suite's one PostgreSQL cluster listens; each test makes databases of its own in it. */
export interface SharedPostgres {
  host: string;
  port: number;
  user: string;
  password: string;
}

declare module "vitest" {
  export interface ProvidedContext {
    postgres: SharedPostgres;
  }
}

/**
 * vitest globalSetup: one throwaway cluster for the whole run (initdb takes
 * seconds; a database takes milliseconds), stopped by its PID at the end.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const cluster: PgCluster = await startPgCluster();
  project.provide("postgres", {
    host: cluster.host,
    port: cluster.port,
    user: cluster.user,
    password: cluster.password,
  });
  return () => cluster.stop();
}
