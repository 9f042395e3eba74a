// Run before the suite: fails in one line, saying what to install, when no WebGPU adapter works.
import { getGpu } from "../lib/gpu/device.ts";

try {
  const { info } = await getGpu();
  console.error(`WebGPU adapter: ${info.description} (backend ${info.backendGuess})`);
} catch (e) {
  console.error((e as Error).message);
  Deno.exit(1);
}
