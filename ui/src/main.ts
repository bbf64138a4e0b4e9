import "./style.css";
import { mount } from "svelte";
import App from "./App.svelte";

const target = document.getElementById("app");
if (!target) throw new Error("index.html lacks #app");

/** The whole window is one Svelte app; each panel is a component under `components/`. */
export default mount(App, { target });
