// A LangGraph JS graph of four nodes, each with its own ChatOpenAI tagged with X-Node, some
// invoking (unstreamed) and some streaming: tokenmeter books per node exactly the usage LangChain
// reported, and the graph ends in the same state as when it talks to the upstream directly.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { HumanMessage, SystemMessage } from '@langchain/core/messages';
import { Annotation, END, START, StateGraph } from '@langchain/langgraph';
import { ChatOpenAI } from '@langchain/openai';
import { startTokenmeter } from '../support/tokenmeter_process.mjs';
import { startStandin } from '../support/upstream_standin.mjs';
import { uniqueSession } from '../support/usage_expectations.mjs';

const NODES = ['JiraNode', 'JenkinsNode', 'KBNode', 'SummaryNode'];
const KB_CONTEXT = Array.from({ length: 80 }, (_, i) => `kb-line-${i}`).join(' ');

const State = Annotation.Root({
  ticket: Annotation(),
  jira: Annotation(),
  jenkins: Annotation(),
  kb: Annotation(),
  summary: Annotation(),
});

/**
 * The graph, talking to baseURL as session `session`. Every call's usage_metadata is pushed
 * to usageByNode[node]. JiraNode and KBNode invoke; JenkinsNode (twice) and SummaryNode stream.
 */
function buildGraph(baseURL, session, usageByNode) {
  const modelFor = (node) => new ChatOpenAI({
    model: 'gpt-4o-mini',
    apiKey: 'sk-test-dummy',
    maxRetries: 0,
    timeout: 15_000,
    configuration: { baseURL, defaultHeaders: { 'X-Node': node, 'X-Session-ID': session } },
  });
  const record = (node, message) => {
    (usageByNode[node] ??= []).push(message.usage_metadata);
    return message.content;
  };
  const invoke = async (node, messages) => record(node, await modelFor(node).invoke(messages));
  const stream = async (node, messages) => {
    let full;
    for await (const chunk of await modelFor(node).stream(messages)) full = full ? full.concat(chunk) : chunk;
    return record(node, full);
  };

  return new StateGraph(State)
    .addNode('JiraNode', async ({ ticket }) => ({
      jira: await invoke('JiraNode', [
        new SystemMessage('You triage Jira tickets.'),
        new HumanMessage(`Ticket ${ticket}: the build fails on main since the dependency bump`),
      ]),
    }))
    .addNode('JenkinsNode', async ({ jira }) => {
      const job = await stream('JenkinsNode', [new HumanMessage(`Find the failing Jenkins job for ${jira}`)]);
      const log = await stream('JenkinsNode', [new HumanMessage(`Read the console log of ${job}`)]);
      return { jenkins: log };
    })
    .addNode('KBNode', async ({ jenkins }) => ({
      kb: await invoke('KBNode', [new HumanMessage(`Search the knowledge base for ${jenkins} within ${KB_CONTEXT}`)]),
    }))
    .addNode('SummaryNode', async ({ jira, jenkins, kb }) => ({
      summary: await stream('SummaryNode', [
        new SystemMessage('Write a two-line summary.'),
        new HumanMessage(`Summarize ${jira} then ${jenkins} then ${kb}`),
      ]),
    }))
    .addEdge(START, 'JiraNode')
    .addEdge('JiraNode', 'JenkinsNode')
    .addEdge('JenkinsNode', 'KBNode')
    .addEdge('KBNode', 'SummaryNode')
    .addEdge('SummaryNode', END)
    .compile();
}

let standin;
let meter;
const session = uniqueSession('langgraph');
const usageByNode = {};
let viaProxy;

before(async () => {
  standin = await startStandin();
  meter = await startTokenmeter({ upstream: `${standin.url}/v1` });
  viaProxy = await buildGraph(meter.proxyUrl, session, usageByNode).invoke({ ticket: 'OPS-42' });
});

after(async () => {
  await meter?.stop();
  await standin?.close();
});

test('every node reached the upstream with its own X-Node, invoking or streaming as written', () => {
  const calls = standin.exchanges
    .filter((x) => x.request.headers['x-session-id'] === session)
    .map((x) => {
      const body = JSON.parse(x.request.body.toString('utf8'));
      return `${x.request.headers['x-node']}:${body.stream === true && body.stream_options?.include_usage === true ? 'stream' : 'invoke'}`;
    });

  assert.deepEqual(calls, ['JiraNode:invoke', 'JenkinsNode:stream', 'JenkinsNode:stream', 'KBNode:invoke', 'SummaryNode:stream']);
});

test('by_node equals the sum of LangChain usage_metadata of each node', async () => {
  const { status, json } = await meter.admin(`/usage/sessions/${session}`);

  assert.equal(status, 200);
  assert.deepEqual(Object.keys(json.by_node).sort(), [...NODES].sort());
  for (const node of NODES) {
    const calls = usageByNode[node];
    const total = (pick) => calls.reduce((sum, u) => sum + pick(u), 0);
    const b = json.by_node[node];
    assert.deepEqual(
      { requests: b.requests, prompt_tokens: b.prompt_tokens, cached_prompt_tokens: b.cached_prompt_tokens,
        completion_tokens: b.completion_tokens, total_tokens: b.total_tokens },
      { requests: calls.length, prompt_tokens: total((u) => u.input_tokens),
        cached_prompt_tokens: total((u) => u.input_token_details?.cache_read ?? 0),
        completion_tokens: total((u) => u.output_tokens), total_tokens: total((u) => u.total_tokens) },
      node);
  }
  assert.ok(usageByNode.KBNode[0].input_token_details.cache_read > 0, 'the KB prompt is long enough to be cached');
});

test('the final state equals the state of the same graph talking to the upstream directly', async () => {
  const direct = await buildGraph(`${standin.url}/v1`, uniqueSession('langgraph-direct'), {}).invoke({ ticket: 'OPS-42' });

  assert.deepEqual(viaProxy, direct);
  assert.match(viaProxy.summary, /^Echo: Summarize Echo: /);
});
