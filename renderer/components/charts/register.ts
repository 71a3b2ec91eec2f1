import {
  BarController,
  BarElement,
  CategoryScale,
  Chart,
  Decimation,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  LogarithmicScale,
  PointElement,
  Tooltip,
  type Plugin,
} from 'chart.js';

// chart.js, registered once with only what the benchmark charts use (tree-shaken), and the
// app's look. Imported by every chart component; importing it twice is harmless.

/** Paints the canvas white under everything, so a saved PNG is not transparent. */
const whiteBackground: Plugin = {
  id: 'rlabWhiteBackground',
  beforeDraw(chart) {
    const { ctx, width, height } = chart;
    ctx.save();
    ctx.globalCompositeOperation = 'destination-over';
    ctx.fillStyle = '#ffffff';
    ctx.fillRect(0, 0, width, height);
    ctx.restore();
  },
};

let registered = false;

export function registerCharts(): typeof Chart {
  if (registered) return Chart;
  registered = true;
  Chart.register(
    LineController,
    LineElement,
    PointElement,
    BarController,
    BarElement,
    LinearScale,
    LogarithmicScale,
    CategoryScale,
    Decimation,
    Tooltip,
    Legend,
    whiteBackground,
  );
  Chart.defaults.font.family = "system-ui, -apple-system, 'Segoe UI', 'Inter', 'Cantarell', 'Noto Sans', 'Liberation Sans', sans-serif";
  Chart.defaults.font.size = 11.5;
  Chart.defaults.color = '#6b7280';
  Chart.defaults.borderColor = '#eceff2';
  Chart.defaults.animation = false;
  Chart.defaults.plugins.tooltip.backgroundColor = 'rgba(28, 31, 36, 0.92)';
  Chart.defaults.plugins.tooltip.padding = 8;
  Chart.defaults.plugins.tooltip.cornerRadius = 6;
  Chart.defaults.plugins.tooltip.titleFont = { weight: 600 };
  Chart.defaults.plugins.legend.labels.boxWidth = 10;
  Chart.defaults.plugins.legend.labels.boxHeight = 10;
  return Chart;
}

export { Chart };
