/**
 * The example game `due dev` runs: echo on route 1 and a chat (routes 10–13, pushes on 100).
 *
 * @module
 */
import { defineApp } from "../../mod.ts";
import { chat } from "./chat.ts";
import { echo } from "./echo.ts";

export default defineApp({
  node(node) {
    echo(node);
    chat(node);
  },
});
