import { writeFile } from "node:fs/promises";
import { isIP } from "node:net";
import { join } from "node:path";
import { generate } from "selfsigned";

export interface VaultCertificate {
  /** The server's private key and certificate, PEM. */
  key: string;
  cert: string;
  /** The CA certificate's file: clients trust it through NODE_EXTRA_CA_CERTS (read at process start only). */
  caFile: string;
}

/**
 * A throwaway CA and a server certificate it signs, made at every start, so no key is ever checked in and
 * clients verify the vault's certificate exactly as they verify Azure's (chain and host name), trusting
 * only this CA. EC keys keep start-up fast; both expire after a day.
 */
export async function createVaultCertificate(names: readonly string[], dir: string): Promise<VaultCertificate> {
  const notAfterDate = new Date(Date.now() + 24 * 3600 * 1000);
  const base = { keyType: "ec", algorithm: "sha256", notAfterDate } as const;
  const ca = await generate([{ name: "commonName", value: "Local Key Vault development CA" }], {
    ...base,
    extensions: [
      { name: "basicConstraints", cA: true, pathLenConstraint: 0, critical: true },
      { name: "keyUsage", keyCertSign: true, cRLSign: true, critical: true },
    ],
  });
  const server = await generate([{ name: "commonName", value: names[0] ?? "localhost" }], {
    ...base,
    ca: { key: ca.private, cert: ca.cert },
    extensions: [
      { name: "basicConstraints", cA: false, critical: true },
      { name: "keyUsage", digitalSignature: true, critical: true },
      { name: "extKeyUsage", serverAuth: true },
      { name: "subjectAltName", altNames: names.map((name) => (isIP(name) ? { type: 7, ip: name } : { type: 2, value: name })) },
    ],
  });
  const caFile = join(dir, "local-key-vault-ca.pem");
  await writeFile(caFile, ca.cert);
  return { key: server.private, cert: server.cert, caFile };
}
