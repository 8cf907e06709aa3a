/**
 * The label's SVG badge: a two-part flat badge (task on the left; rating, stars and the
 * figure on the right, coloured by rating), self-contained, with a <title> and <desc> that
 * say the same in words for screen readers and for anyone reading the file.
 */
import type { LabelRating } from "./rating.js";

/** What a badge shows. */
export interface BadgeContent {
  task: string;
  rating: LabelRating;
  /** Median energy, Wh per 1,000 queries. */
  energyWhPer1kQueries: number;
  /** Protocol name, for the description ("wattprint-label/1"). */
  protocolName: string;
  /** Reference hardware in words, for the description. */
  referenceHardware: string;
}

/** Background of the right part per rating: 5 dark green … 1 red (ColorBrewer RdYlGn, darkened for white text). */
export const RATING_COLOURS: Record<LabelRating, string> = {
  5: "#1a7f37",
  4: "#4c9a2a",
  3: "#b08800",
  2: "#d1580b",
  1: "#c62828",
};

const HEIGHT = 20;
const CHAR_WIDTH = 6.6;
const PADDING = 8;

/**
 * An energy figure per 1,000 queries with a unit chosen for reading: Wh from 1 Wh, mWh
 * from 1 mWh, µWh below; three significant figures. "13.9 µWh".
 */
export function formatWhPer1kQueries(energyWh: number): string {
  const [value, unit] =
    energyWh >= 1
      ? [energyWh, "Wh"]
      : energyWh >= 1e-3
        ? [energyWh * 1e3, "mWh"]
        : [energyWh * 1e6, "µWh"];
  return `${Number(value.toPrecision(3)).toString()} ${unit}`;
}

/** "★★★★☆" for 4. */
export function ratingStars(rating: LabelRating): string {
  return "★".repeat(rating) + "☆".repeat(5 - rating);
}

/** The badge as a standalone SVG document (UTF-8). */
export function renderLabelBadge(content: BadgeContent): string {
  const left = `energy · ${content.task}`;
  const figure = formatWhPer1kQueries(content.energyWhPer1kQueries);
  const right = `${content.rating}/5 ${ratingStars(content.rating)} · ${figure} / 1k queries`;
  const leftWidth = Math.round(left.length * CHAR_WIDTH + 2 * PADDING);
  const rightWidth = Math.round(right.length * CHAR_WIDTH + 2 * PADDING);
  const width = leftWidth + rightWidth;
  const colour = RATING_COLOURS[content.rating];
  const title = `wattprint energy label for ${content.task}: rating ${content.rating} of 5, ${figure} per 1,000 queries`;
  const description = `Median CPU + RAM energy per 1,000 queries at batch 1 under protocol ${content.protocolName}, rated against reference models measured on ${content.referenceHardware}; comparable only on that hardware and protocol. The JSON certificate holds the conditions.`;
  const text = (value: string, x: number, textWidth: number) =>
    `<text x="${x}" y="14" textLength="${textWidth}" lengthAdjust="spacingAndGlyphs">${escapeXml(value)}</text>`;
  return [
    `<?xml version="1.0" encoding="UTF-8"?>`,
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${HEIGHT}" viewBox="0 0 ${width} ${HEIGHT}" role="img" aria-label="${escapeXml(title)}" data-rating="${content.rating}" data-energy-wh-per-1k-queries="${content.energyWhPer1kQueries}">`,
    `  <title>${escapeXml(title)}</title>`,
    `  <desc>${escapeXml(description)}</desc>`,
    `  <linearGradient id="shine" x2="0" y2="100%"><stop offset="0" stop-color="#fff" stop-opacity=".1"/><stop offset="1" stop-opacity=".1"/></linearGradient>`,
    `  <clipPath id="round"><rect width="${width}" height="${HEIGHT}" rx="3"/></clipPath>`,
    `  <g clip-path="url(#round)">`,
    `    <rect width="${leftWidth}" height="${HEIGHT}" fill="#444"/>`,
    `    <rect x="${leftWidth}" width="${rightWidth}" height="${HEIGHT}" fill="${colour}"/>`,
    `    <rect width="${width}" height="${HEIGHT}" fill="url(#shine)"/>`,
    `  </g>`,
    `  <g fill="#fff" font-family="Verdana,DejaVu Sans,Geneva,sans-serif" font-size="11">`,
    `    ${text(left, PADDING, leftWidth - 2 * PADDING)}`,
    `    ${text(right, leftWidth + PADDING, rightWidth - 2 * PADDING)}`,
    `  </g>`,
    `</svg>`,
    ``,
  ].join("\n");
}

function escapeXml(text: string): string {
  return text
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&apos;");
}
