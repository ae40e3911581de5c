// The answers of the upstream stand-in, one builder per API dialect. Pure functions of the
// request: the same request always gives the same content and usage, only the id differs.
//
// Usage model (the numbers tests expect are derived from it, never typed by hand twice):
//   prompt      = 3 + sum over messages of (4 + words in the message's text)   (chat, messages,
//                 responses); words in the prompt (legacy completions); words per input (embeddings)
//   cached      = floor(prompt / 2) once prompt >= 64, else 0     (a subset of prompt)
//   cache write = floor(prompt / 8) once prompt >= 64, else 0     (Anthropic only, a subset too)
//   completion  = words in the reply + reasoning
//   reasoning   = 2 x words in the reply for reasoning models (o1, o3, o4-mini, gpt-5...), else 0
// A count the dialect's wire format cannot carry is null in the canonical record.

const CREATED = 1750000000;
const LONG_PROMPT = 64;

/** Dated snapshots the stand-in answers with, as real upstreams do. */
const SNAPSHOTS = new Map([
  ['gpt-4o-mini', 'gpt-4o-mini-2024-07-18'],
  ['gpt-4o', 'gpt-4o-2024-08-06'],
  ['gpt-4.1-nano', 'gpt-4.1-nano-2025-04-14'],
  ['gpt-4.1-mini', 'gpt-4.1-mini-2025-04-14'],
  ['gpt-5-mini', 'gpt-5-mini-2025-08-07'],
  ['o4-mini', 'o4-mini-2025-04-16'],
  ['gpt-3.5-turbo-instruct', 'gpt-3.5-turbo-instruct-0914'],
  ['claude-sonnet-4', 'claude-sonnet-4-20250514'],
  ['claude-3-5-haiku', 'claude-3-5-haiku-20241022'],
]);

/** The model name the stand-in reports for a requested model. */
export function snapshotOf(model) {
  return SNAPSHOTS.get(model) ?? model;
}

function isReasoningModel(model) {
  return /^(o\d|gpt-5)/.test(model);
}

function words(text) {
  return text.split(/\s+/).filter(Boolean);
}

/** The text of a message content: a string or an array of typed parts. */
function textOf(content) {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    return content.map((part) => (typeof part === 'string' ? part : part?.text ?? '')).join(' ');
  }
  return '';
}

function promptOfMessages(messages) {
  return 3 + messages.reduce((sum, m) => sum + 4 + words(textOf(m.content)).length, 0);
}

function lastUserText(messages) {
  const user = messages.filter((m) => m.role === 'user' || m.role === 'human');
  return user.length ? textOf(user.at(-1).content) : '';
}

/** The reply: an echo of the first words of the last user text, split in stream pieces. */
function replyOf(text) {
  const head = words(text).slice(0, 12).join(' ');
  const reply = `Echo: ${head || '(nothing)'}`;
  const pieces = words(reply).map((w, i) => (i === 0 ? w : ` ${w}`));
  return { text: reply, pieces };
}

/**
 * Canonical usage of one answer, in the proxy's own terms. A field the dialect's wire format
 * does not carry (listed in `unreported`) is null: not reported is not zero.
 */
function usageOf({ prompt, replyWords, model, cacheWrites = false, unreported = [] }) {
  const long = prompt >= LONG_PROMPT;
  const reasoning = isReasoningModel(model) ? 2 * replyWords : 0;
  const completion = replyWords + reasoning;
  const usage = {
    prompt_tokens: prompt,
    cached_prompt_tokens: long ? Math.floor(prompt / 2) : 0,
    cache_write_tokens: cacheWrites && long ? Math.floor(prompt / 8) : 0,
    completion_tokens: completion,
    reasoning_tokens: reasoning,
    total_tokens: prompt + completion,
  };
  for (const field of unreported) usage[field] = null;
  return usage;
}

function sse(data, event) {
  return `${event ? `event: ${event}\n` : ''}data: ${typeof data === 'string' ? data : JSON.stringify(data)}\n\n`;
}

function openaiUsage(u) {
  return {
    prompt_tokens: u.prompt_tokens,
    completion_tokens: u.completion_tokens,
    total_tokens: u.total_tokens,
    prompt_tokens_details: { cached_tokens: u.cached_prompt_tokens, audio_tokens: 0 },
    completion_tokens_details: {
      reasoning_tokens: u.reasoning_tokens,
      audio_tokens: 0,
      accepted_prediction_tokens: 0,
      rejected_prediction_tokens: 0,
    },
  };
}

/**
 * Every builder returns { usage, json } for an unstreamed answer or { usage, events } for a
 * stream (each event one SSE frame, written separately). `usage` is the canonical record, or
 * null when the wire carries none (a stream without include_usage).
 */
export function chatCompletion(req, id) {
  const messages = req.messages ?? [];
  const reply = replyOf(lastUserText(messages));
  const model = snapshotOf(req.model);
  const usage = usageOf({ prompt: promptOfMessages(messages), replyWords: reply.pieces.length, model, unreported: ['cache_write_tokens'] });
  const head = { id, object: 'chat.completion', created: CREATED, model, service_tier: 'default', system_fingerprint: 'fp_standin' };
  if (!req.stream) {
    return {
      usage,
      json: {
        ...head,
        choices: [{ index: 0, message: { role: 'assistant', content: reply.text, refusal: null, annotations: [] }, logprobs: null, finish_reason: 'stop' }],
        usage: openaiUsage(usage),
      },
    };
  }
  const withUsage = req.stream_options?.include_usage === true;
  const chunk = (choices) => sse({ ...head, object: 'chat.completion.chunk', choices, ...(withUsage ? { usage: null } : {}) });
  const events = [
    chunk([{ index: 0, delta: { role: 'assistant', content: '', refusal: null }, logprobs: null, finish_reason: null }]),
    ...reply.pieces.map((p) => chunk([{ index: 0, delta: { content: p }, logprobs: null, finish_reason: null }])),
    chunk([{ index: 0, delta: {}, logprobs: null, finish_reason: 'stop' }]),
  ];
  if (withUsage) events.push(sse({ ...head, object: 'chat.completion.chunk', choices: [], usage: openaiUsage(usage) }));
  events.push(sse('[DONE]'));
  return { usage: withUsage ? usage : null, events };
}

/** Legacy POST /completions: usage serialised before choices in the final chunk, as observed. */
export function textCompletion(req, id) {
  const prompt = Array.isArray(req.prompt) ? req.prompt.join(' ') : String(req.prompt ?? '');
  const reply = replyOf(prompt);
  const model = snapshotOf(req.model);
  // The legacy wire carries no details objects, so no cache or reasoning counts.
  const usage = usageOf({
    prompt: words(prompt).length, replyWords: reply.pieces.length, model,
    unreported: ['cached_prompt_tokens', 'cache_write_tokens', 'reasoning_tokens'],
  });
  const wire = { prompt_tokens: usage.prompt_tokens, completion_tokens: usage.completion_tokens, total_tokens: usage.total_tokens };
  const head = { id, object: 'text_completion', created: CREATED, model };
  if (!req.stream) {
    return { usage, json: { ...head, choices: [{ text: reply.text, index: 0, logprobs: null, finish_reason: 'stop' }], usage: wire } };
  }
  const withUsage = req.stream_options?.include_usage === true;
  const events = reply.pieces.map((p, i) => sse({
    ...head,
    choices: [{ text: p, index: 0, logprobs: null, finish_reason: i === reply.pieces.length - 1 ? 'stop' : null }],
    ...(withUsage ? { usage: null } : {}),
  }));
  if (withUsage) events.push(sse({ ...head, usage: wire, choices: [] }));
  events.push(sse('[DONE]'));
  return { usage: withUsage ? usage : null, events };
}

/** POST /embeddings: prompt_tokens and total_tokens only, summed over the inputs. */
export function embeddings(req) {
  const inputs = Array.isArray(req.input) ? req.input : [req.input ?? ''];
  const prompt = inputs.reduce((sum, text) => sum + words(String(text)).length, 0);
  const data = inputs.map((text, index) => ({
    object: 'embedding',
    index,
    embedding: [words(String(text)).length / 10, 0.25, -0.5],
  }));
  return {
    usage: { prompt_tokens: prompt, cached_prompt_tokens: null, cache_write_tokens: null, completion_tokens: null, reasoning_tokens: null, total_tokens: prompt },
    json: { object: 'list', data, model: snapshotOf(req.model), usage: { prompt_tokens: prompt, total_tokens: prompt } },
  };
}

function responsesMessages(req) {
  const items = typeof req.input === 'string' ? [{ role: 'user', content: req.input }] : req.input ?? [];
  return req.instructions ? [{ role: 'system', content: req.instructions }, ...items] : items;
}

/** OpenAI Responses API: usage nested in the terminal event, no [DONE]. */
export function responses(req, id) {
  const messages = responsesMessages(req);
  const reply = replyOf(lastUserText(messages));
  const model = snapshotOf(req.model);
  const usage = usageOf({ prompt: promptOfMessages(messages), replyWords: reply.pieces.length, model, unreported: ['cache_write_tokens'] });
  const wireUsage = {
    input_tokens: usage.prompt_tokens,
    input_tokens_details: { cached_tokens: usage.cached_prompt_tokens },
    output_tokens: usage.completion_tokens,
    output_tokens_details: { reasoning_tokens: usage.reasoning_tokens },
    total_tokens: usage.total_tokens,
  };
  const msgId = `msg_${id}`;
  const text = { type: 'output_text', text: reply.text, annotations: [], logprobs: [] };
  const item = { id: msgId, type: 'message', status: 'completed', role: 'assistant', content: [text] };
  const response = (status, output, u) => ({ id, object: 'response', created_at: CREATED, status, model, output, usage: u });
  if (!req.stream) return { usage, json: response('completed', [item], wireUsage) };
  let seq = 0;
  const ev = (type, body) => sse({ type, sequence_number: seq++, ...body }, type);
  const events = [
    ev('response.created', { response: response('in_progress', [], null) }),
    ev('response.in_progress', { response: response('in_progress', [], null) }),
    ev('response.output_item.added', { output_index: 0, item: { ...item, status: 'in_progress', content: [] } }),
    ev('response.content_part.added', { item_id: msgId, output_index: 0, content_index: 0, part: { ...text, text: '' } }),
    ...reply.pieces.map((p) => ev('response.output_text.delta', { item_id: msgId, output_index: 0, content_index: 0, delta: p, logprobs: [] })),
    ev('response.output_text.done', { item_id: msgId, output_index: 0, content_index: 0, text: reply.text, logprobs: [] }),
    ev('response.content_part.done', { item_id: msgId, output_index: 0, content_index: 0, part: text }),
    ev('response.output_item.done', { output_index: 0, item }),
    ev('response.completed', { response: response('completed', [item], wireUsage) }),
  ];
  return { usage, events };
}

/** Anthropic Messages: input_tokens excludes the cache reads and writes. */
export function anthropicMessages(req, id) {
  const system = req.system ? [{ role: 'system', content: req.system }] : [];
  const messages = [...system, ...(req.messages ?? [])];
  const reply = replyOf(lastUserText(messages));
  const model = snapshotOf(req.model);
  const usage = usageOf({ prompt: promptOfMessages(messages), replyWords: reply.pieces.length, model, cacheWrites: true, unreported: ['reasoning_tokens'] });
  const inputSide = {
    input_tokens: usage.prompt_tokens - usage.cached_prompt_tokens - usage.cache_write_tokens,
    cache_creation_input_tokens: usage.cache_write_tokens,
    cache_read_input_tokens: usage.cached_prompt_tokens,
  };
  const head = { id, type: 'message', role: 'assistant', model };
  if (!req.stream) {
    return {
      usage,
      json: {
        ...head,
        content: [{ type: 'text', text: reply.text }],
        stop_reason: 'end_turn',
        stop_sequence: null,
        usage: { ...inputSide, output_tokens: usage.completion_tokens, service_tier: 'standard' },
      },
    };
  }
  const ev = (type, body) => sse({ type, ...body }, type);
  const events = [
    ev('message_start', { message: { ...head, content: [], stop_reason: null, stop_sequence: null, usage: { ...inputSide, output_tokens: 1, service_tier: 'standard' } } }),
    ev('content_block_start', { index: 0, content_block: { type: 'text', text: '' } }),
    ev('ping', {}),
    ...reply.pieces.map((p) => ev('content_block_delta', { index: 0, delta: { type: 'text_delta', text: p } })),
    ev('content_block_stop', { index: 0 }),
    ev('message_delta', { delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { ...inputSide, output_tokens: usage.completion_tokens } }),
    ev('message_stop', {}),
  ];
  return { usage, events };
}

/** GET /models: a static list, for path and query tests. */
export function modelList() {
  return { json: { object: 'list', data: [...SNAPSHOTS.values()].map((id) => ({ id, object: 'model', created: CREATED, owned_by: 'standin' })) } };
}
