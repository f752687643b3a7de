/**
 * Every template, in both stores, is laid out so it can be read on n8n's canvas: no two nodes cover each other, a
 * sticky note is either beside the nodes or a background behind whole nodes, every connection runs left to right,
 * and no connection is drawn through a third node.
 *
 * The sizes are n8n's canvas's (editor-ui `calculateNodeSize`): a node is 96 × 96 and grows by 32 for each input or
 * output handle beyond two; rounded up here to 100, plus the band below the box where n8n writes the node's name and
 * subtitle. A sticky note is its own width and height (n8n's default 240 × 160 when it has none).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const WORKFLOWS = join(__dirname, '..', '..', 'workflows');
const STORES = ['', 'postgres'] as const;

const NODE_WIDTH = 100;
const NODE_HEIGHT = 100;
/** How much taller a node is for each input or output handle beyond two. */
const HANDLE_STEP = 32;
/** The node's name and subtitle under its box. */
const LABEL_HEIGHT = 40;
const STICKY_DEFAULT = { width: 240, height: 160 };
/** Points sampled along each drawn connection. */
const CURVE_SAMPLES = 100;

interface Rect {
	left: number;
	top: number;
	right: number;
	bottom: number;
}
interface Shape {
	name: string;
	sticky: boolean;
	/** The box only (where the handles are). */
	box: Rect;
	/** The box and, for a node, the label under it. */
	area: Rect;
	inputs: number;
	outputs: number;
}

const isSticky = (n: Json) => n.type === 'n8n-nodes-base.stickyNote';
const overlaps = (a: Rect, b: Rect) => a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;
const inside = (a: Rect, b: Rect) => b.left <= a.left && b.top <= a.top && a.right <= b.right && a.bottom <= b.bottom;
const contains = (r: Rect, x: number, y: number) => r.left <= x && x <= r.right && r.top <= y && y <= r.bottom;

function connections(wf: Json): Array<{ from: string; output: number; to: string; input: number }> {
	return Object.entries<Json>(wf.connections ?? {}).flatMap(([from, kinds]) =>
		Object.values<Json[][]>(kinds).flatMap((outputs) =>
			outputs.flatMap((branch, output) => (branch ?? []).map((c: Json) => ({ from, output, to: c.node as string, input: c.index as number }))),
		),
	);
}

function shapes(wf: Json): Map<string, Shape> {
	const links = connections(wf);
	const result = new Map<string, Shape>();
	for (const n of wf.nodes) {
		const [x, y] = n.position as [number, number];
		if (isSticky(n)) {
			const r = {
				left: x,
				top: y,
				right: x + (n.parameters.width ?? STICKY_DEFAULT.width),
				bottom: y + (n.parameters.height ?? STICKY_DEFAULT.height),
			};
			result.set(n.name, { name: n.name, sticky: true, box: r, area: r, inputs: 0, outputs: 0 });
			continue;
		}
		const inputs = Math.max(1, ...links.filter((l) => l.to === n.name).map((l) => l.input + 1));
		const outputs = Math.max(1, ...links.filter((l) => l.from === n.name).map((l) => l.output + 1), (wf.connections[n.name]?.main ?? []).length);
		const height = NODE_HEIGHT + Math.max(0, Math.max(inputs, outputs) - 2) * HANDLE_STEP;
		const box = { left: x, top: y, right: x + NODE_WIDTH, bottom: y + height };
		result.set(n.name, { name: n.name, sticky: false, box, area: { ...box, bottom: box.bottom + LABEL_HEIGHT }, inputs, outputs });
	}
	return result;
}

/** Where a handle sits: handles are spread evenly down the side of the box. */
const handleY = (box: Rect, index: number, count: number) => box.top + ((box.bottom - box.top) * (index + 1)) / (count + 1);

/** Points along the connection as n8n draws it: a cubic Bézier leaving and entering horizontally. */
function curve(from: Shape, output: number, to: Shape, input: number): Array<[number, number]> {
	const sx = from.box.right;
	const sy = handleY(from.box, output, from.outputs);
	const tx = to.box.left;
	const ty = handleY(to.box, input, to.inputs);
	const d = Math.abs(tx - sx) / 2;
	const points: Array<[number, number]> = [];
	for (let k = 1; k < CURVE_SAMPLES; k++) {
		const u = k / CURVE_SAMPLES;
		const a = (1 - u) ** 3;
		const b = 3 * (1 - u) ** 2 * u;
		const c = 3 * (1 - u) * u * u;
		const e = u ** 3;
		points.push([a * sx + b * (sx + d) + c * (tx - d) + e * tx, a * sy + b * sy + c * ty + e * ty]);
	}
	return points;
}

/** Every layout problem of one template, in words. */
function layoutProblems(wf: Json): string[] {
	const problems: string[] = [];
	const all = shapes(wf);
	const list = [...all.values()];
	for (let i = 0; i < list.length; i++)
		for (let j = i + 1; j < list.length; j++) {
			const [a, b] = [list[i], list[j]];
			if (!overlaps(a.area, b.area)) continue;
			if (a.sticky && b.sticky) problems.push(`sticky notes "${a.name}" and "${b.name}" overlap`);
			else if (!a.sticky && !b.sticky) problems.push(`nodes "${a.name}" and "${b.name}" overlap`);
			else {
				const [sticky, node] = a.sticky ? [a, b] : [b, a];
				// a sticky note may be the background of whole nodes, never half under one
				if (!inside(node.area, sticky.area)) problems.push(`sticky note "${sticky.name}" covers part of node "${node.name}"`);
			}
		}
	for (const link of connections(wf)) {
		const from = all.get(link.from);
		const to = all.get(link.to);
		if (!from || !to) {
			problems.push(`connection ${link.from} → ${link.to} names a node that is not there`);
			continue;
		}
		if (to.box.left < from.box.right) problems.push(`${link.from} → ${link.to} runs right to left`);
		const crossed = new Set<string>();
		for (const [x, y] of curve(from, link.output, to, link.input))
			for (const other of list) if (!other.sticky && other !== from && other !== to && contains(other.area, x, y)) crossed.add(other.name);
		for (const name of crossed) problems.push(`${link.from} → ${link.to} is drawn through node "${name}"`);
	}
	return problems;
}

const templates = (dir: string) =>
	readdirSync(join(WORKFLOWS, dir))
		.filter((f) => /^\d+-.*\.json$/.test(f))
		.sort((a, b) => parseInt(a) - parseInt(b));
const load = (dir: string, file: string): Json => JSON.parse(readFileSync(join(WORKFLOWS, dir, file), 'utf8'));

describe('template layout on the canvas', () => {
	for (const dir of STORES) {
		for (const file of templates(dir)) {
			it(`${dir || 'data tables'} ${file}: no overlaps, left to right, no connection through a node`, () => {
				expect(layoutProblems(load(dir, file))).toEqual([]);
			});
		}
	}

	it('the check finds what it is for', () => {
		const node = (name: string, x: number, y: number) => ({ name, type: 'n8n-nodes-base.noOp', position: [x, y], parameters: {} });
		const sticky = (name: string, x: number, y: number, width: number, height: number) => ({
			name,
			type: 'n8n-nodes-base.stickyNote',
			position: [x, y],
			parameters: { width, height },
		});
		const link = (to: string, index = 0) => [{ node: to, type: 'main', index }];
		const wf = (nodes: Json[], connections: Json = {}) => ({ nodes, connections });
		expect(layoutProblems(wf([node('A', 0, 0), node('B', 220, 0)], { A: { main: [link('B')] } }))).toEqual([]);
		// a name under the box counts: 120 below is too close, 140 is not
		expect(layoutProblems(wf([node('A', 0, 0), node('B', 0, 120)]))).toEqual(['nodes "A" and "B" overlap']);
		expect(layoutProblems(wf([node('A', 0, 0), node('B', 0, 140)]))).toEqual([]);
		expect(layoutProblems(wf([node('A', 0, 0), node('B', 220, 0)], { B: { main: [link('A')] } }))).toEqual(['B → A runs right to left']);
		expect(layoutProblems(wf([node('A', 0, 0), node('M', 220, 0), node('B', 440, 0)], { A: { main: [link('B')] } }))).toEqual([
			'A → B is drawn through node "M"',
		]);
		// a background sticky holds whole nodes; one that covers half a node is in the way
		expect(layoutProblems(wf([sticky('S', -20, -20, 400, 200), node('A', 0, 0), node('B', 220, 0)]))).toEqual([]);
		expect(layoutProblems(wf([sticky('S', -20, -20, 300, 100), node('A', 0, 0)]))).toEqual(['sticky note "S" covers part of node "A"']);
		expect(layoutProblems(wf([sticky('S', 0, 0, 300, 100), sticky('T', 200, 50, 300, 100)]))).toEqual(['sticky notes "S" and "T" overlap']);
		// a switch with six outputs is taller than a plain node
		const tall = wf([node('R', 0, 0), ...[0, 1, 2, 3, 4, 5].map((i) => node(`T${i}`, 220, i * 200 - 200))], {
			R: { main: [0, 1, 2, 3, 4, 5].map((i) => link(`T${i}`)[0]).map((c) => [c]) },
		});
		expect(layoutProblems({ ...tall, nodes: [...tall.nodes, node('U', 0, 200)] })).toEqual(['nodes "R" and "U" overlap']);
	});
});
