import { app } from "@azure/functions";
import { getRuntime } from "./runtime.js";

// App-wide setup only; each function registers itself in its own file under functions/.
app.setup({ enableHttpStream: true });

// Read and validate the configuration now, so a bad setting stops the app at start-up with one
// message naming every problem, instead of failing the first request.
getRuntime();
