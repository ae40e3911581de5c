// A deterministic corpus of mixed text for the tokenizer exactness check: code, JSON, prose in
// several scripts, emoji (with modifiers and joiners), numbers and unusual whitespace. Same seed,
// same bytes, on every machine. No special-token spellings (`<|...|>`) appear.
const PROSE = [
  "The quick brown fox jumps over the lazy dog. It's what we'd do; they'll see, you're sure, I'm not.",
  "DON'T PANIC. SHE'S HERE, WE'VE LEFT, THEY'RE GONE, I'LL STAY, HE'D KNOW.",
  'Die Straße führt über die Brücke; Größe und Übermut ärgern Jörg nicht.',
  "L'été dernier, à Paris, nous avons mangé des crêpes près de la Seine — c'était délicieux!",
  '¿Dónde está la biblioteca? El niño pequeño comió una manzana en el año 2023.',
  'Съешь же ещё этих мягких французских булок, да выпей чаю. Москва — столица России.',
  'Ξεσκεπάζω την ψυχοφθόρα βδελυγμία. Η γλώσσα είναι ελληνική.',
  '我能吞下玻璃而不伤身体。今天天气很好，我们去公园散步吧！',
  '私はガラスを食べられます。それは私を傷つけません。カタカナとひらがな、漢字。',
  '나는 유리를 먹을 수 있어요. 그래도 아프지 않아요. 한국어 문장입니다.',
  'أنا قادر على أكل الزجاج و هذا لا يؤلمني. اللغة العربية جميلة.',
  'मैं काँच खा सकता हूँ और मुझे उससे कोई चोट नहीं पहुंचती। हिन्दी भाषा।',
  'ฉันกินกระจกได้ แต่มันไม่ทำให้ฉันเจ็บ ภาษาไทยไม่มีช่องว่างระหว่างคำ',
  'אני יכול לאכול זכוכית וזה לא מזיק לי. עברית נכתבת מימין לשמאל.',
  'Tôi có thể ăn thủy tinh mà không hại gì. Tiếng Việt có nhiều dấu.',
  'e\u0301te\u0301 cafe\u0301 n\u0303 combining marks, ﬁ ligature, ＦＵＬＬＷＩＤＴＨ ｔｅｘｔ, ½ ² ³ Ⅻ ① ٣ ४',
];
const EMOJI = ['😀', '👋🏽', '👨‍👩‍👧‍👦', '🏳️‍🌈', '🇺🇳', '❤️', '🔥🔥🔥', '✅', '🧪', '👩🏿‍💻', '🤖', '☕', '🍣', '🎉'];
const CODE = [
  'function add(a, b) {\n  return a + b;\n}\n\nconsole.log(add(1, 2));\n',
  'def fib(n: int) -> int:\n    """Return the n-th Fibonacci number."""\n    if n < 2:\n        return n\n    return fib(n - 1) + fib(n - 2)\n',
  '#include <vector>\n\nint main() {\n\tstd::vector<int> v{1, 2, 3};\n\tfor (auto& x : v) x *= 2;\n\treturn 0;\n}\n',
  'SELECT id, name FROM users WHERE created_at >= \'2024-01-01\' ORDER BY id DESC LIMIT 10;\r\n',
  'fn main() {\n    let s = String::from("héllo");\n    println!("{s:?} {}", s.len());\n}\n',
  '    \n\t\t  \n  trailing   \n\n\n  path/to/some_file.txt /usr/local/bin C:\\Windows\\System32\n',
  '<div class="card"><p>Hello &amp; welcome</p></div>\n',
  'x=1;y=22;z=333;w=4444;v=55555;u=666666;\nhttps://example.com/a/b?c=d&e=f#g\n',
];

/** mulberry32: a tiny seeded generator. */
function generator(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function jsonValue(random, depth) {
  const r = random();
  if (depth > 2 || r < 0.3) return Math.floor(random() * 1e6) / (r < 0.15 ? 100 : 1);
  if (r < 0.55) return PROSE[Math.floor(random() * PROSE.length)].slice(0, 20 + Math.floor(random() * 40));
  if (r < 0.75) return Array.from({ length: 1 + Math.floor(random() * 4) }, () => jsonValue(random, depth + 1));
  const o = {};
  for (let i = 0; i < 1 + Math.floor(random() * 4); ++i) o[`key_${Math.floor(random() * 100)}`] = jsonValue(random, depth + 1);
  return o;
}

/** One section of the corpus: prose, code, JSON or a run of emoji and symbols. */
function section(random) {
  const pick = (list) => list[Math.floor(random() * list.length)];
  const kind = random();
  if (kind < 0.4) return Array.from({ length: 1 + Math.floor(random() * 4) }, () => pick(PROSE)).join(random() < 0.5 ? ' ' : '\n');
  if (kind < 0.65) return pick(CODE);
  if (kind < 0.85) return JSON.stringify(jsonValue(random, 0), null, random() < 0.5 ? 2 : undefined) + '\n';
  const spaces = [' ', '  ', '\u00a0', '\u3000', '\t', '\n', ''];
  return Array.from({ length: 3 + Math.floor(random() * 10) }, () => pick(EMOJI) + pick(spaces)).join('') + '\n';
}

/** Chunks of text, together at least minBytes of UTF-8, each about chunkBytes. */
export function tokenCorpus({ minBytes = 2 * 1024 * 1024, chunkBytes = 32 * 1024, seed = 8 } = {}) {
  const random = generator(seed);
  const chunks = [];
  let total = 0;
  while (total < minBytes) {
    let chunk = '';
    while (Buffer.byteLength(chunk) < chunkBytes) chunk += section(random);
    chunks.push(chunk);
    total += Buffer.byteLength(chunk);
  }
  return chunks;
}
