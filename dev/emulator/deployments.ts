/** One model deployment the emulator serves, at `/{name}/...`. */
export interface EmulatedDeployment {
  /** Path segment and alias, e.g. `mistral-large`. */
  name: string;
  /** What `/info` and `model` in answers say, e.g. `Mistral-Large`. */
  modelName: string;
  modelType: string;
  provider: string;
}

export const DEFAULT_DEPLOYMENTS: readonly EmulatedDeployment[] = [
  { name: "mistral-large", modelName: "Mistral-Large", modelType: "chat-completions", provider: "MistralAI" },
  { name: "mistral-small", modelName: "Mistral-Small", modelType: "chat-completions", provider: "MistralAI" },
];

/** Finds a deployment by path name or model name, case-insensitively (Foundry-style `model` in the body). */
export function findDeployment(deployments: readonly EmulatedDeployment[], name: string): EmulatedDeployment | undefined {
  const wanted = name.toLowerCase();
  return deployments.find((d) => d.name === wanted || d.modelName.toLowerCase() === wanted);
}
