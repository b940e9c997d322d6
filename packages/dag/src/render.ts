/**
 * Renders a workflow's graph as Mermaid or Graphviz DOT text.
 * @module
 */

/** One task and its predecessors, as {@link Workflow.edges} returns them. */
export interface GraphNode {
  readonly name: string;
  readonly kind: 'task' | 'job';
  readonly after: readonly string[];
}

/** The graph formats {@link renderGraph} writes. */
export type GraphFormat = 'mermaid' | 'dot';

/** Renders `nodes` as a Mermaid flowchart (`graph TD`) or a DOT digraph. */
export function renderGraph(nodes: readonly GraphNode[], format: GraphFormat): string {
  const ids = new Map<string, string>();
  nodes.forEach((n, i) => {
    ids.set(n.name, `n${i}`);
  });
  const lines: string[] = [];
  if (format === 'mermaid') {
    lines.push('graph TD');
    for (const n of nodes) {
      const label = n.name.replace(/"/g, '#quot;');
      lines.push(n.kind === 'job' ? `  ${ids.get(n.name)}["${label}"]` : `  ${ids.get(n.name)}("${label}")`);
    }
    for (const n of nodes) for (const a of n.after) lines.push(`  ${ids.get(a) ?? a} --> ${ids.get(n.name)}`);
  } else {
    lines.push('digraph workflow {', '  rankdir=TB;');
    for (const n of nodes) {
      const label = n.name.replace(/\\/g, '\\\\').replace(/"/g, '\\"');
      lines.push(`  ${ids.get(n.name)} [label="${label}", shape=${n.kind === 'job' ? 'box' : 'ellipse'}];`);
    }
    for (const n of nodes) for (const a of n.after) lines.push(`  ${ids.get(a) ?? a} -> ${ids.get(n.name)};`);
    lines.push('}');
  }
  return `${lines.join('\n')}\n`;
}
