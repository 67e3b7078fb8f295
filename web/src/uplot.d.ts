// The server serves node_modules/uplot/dist/uPlot.esm.js as /static/js/uplot.js (no bundler, no CDN).
import uPlot from "uplot";
export default uPlot;
