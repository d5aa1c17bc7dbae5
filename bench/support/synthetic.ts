/**
 * Synthetic memories for the latency suite: realistic chat-turn sentences (8-40 words, mixed templates) with
 * CLUSTERED vectors. Each memory belongs to a topic; its text uses that topic's vocabulary and its vector is the
 * topic's sub-cluster centroid plus Gaussian noise, so nearest neighbours are meaningful (uniform random vectors
 * would make every approximate index look broken). Everything is seeded: the same options give the same data.
 */
import { normaliseVector } from '../../src/embedders/types.js';
import { seededRandom } from '../../test/support/vectors.js';

/** A small, fast, seeded PRNG (mulberry32, the tests' own): floats in [0, 1). */
export const createRandom = seededRandom;

function gaussian(random: () => number): number {
  const u = Math.max(random(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
}

const TOPICS: Record<string, string[]> = {
  cooking: [
    'pasta',
    'risotto',
    'sourdough',
    'curry',
    'dumplings',
    'soup',
    'salad',
    'oven',
    'recipe',
    'spices',
    'garlic',
    'tomatoes',
    'pancakes',
    'barbecue',
  ],
  hiking: [
    'trail',
    'summit',
    'backpack',
    'boots',
    'campsite',
    'ridge',
    'waterfall',
    'map',
    'tent',
    'canyon',
    'forest',
    'lake',
    'blisters',
    'sunrise',
  ],
  music: [
    'guitar',
    'piano',
    'concert',
    'album',
    'drums',
    'choir',
    'playlist',
    'violin',
    'band',
    'lyrics',
    'festival',
    'vinyl',
    'chords',
    'rehearsal',
  ],
  work: [
    'deadline',
    'manager',
    'meeting',
    'promotion',
    'project',
    'client',
    'report',
    'office',
    'interview',
    'salary',
    'presentation',
    'team',
    'contract',
    'budget',
  ],
  pets: [
    'puppy',
    'kitten',
    'vet',
    'leash',
    'aquarium',
    'parrot',
    'hamster',
    'collar',
    'shelter',
    'treats',
    'litter',
    'walks',
    'grooming',
    'adoption',
  ],
  travel: [
    'flight',
    'passport',
    'hotel',
    'luggage',
    'museum',
    'beach',
    'train',
    'itinerary',
    'visa',
    'airport',
    'souvenirs',
    'island',
    'roadtrip',
    'hostel',
  ],
  health: [
    'doctor',
    'therapy',
    'yoga',
    'vitamins',
    'allergy',
    'sleep',
    'dentist',
    'knee',
    'meditation',
    'diet',
    'gym',
    'headache',
    'checkup',
    'running',
  ],
  money: [
    'savings',
    'mortgage',
    'taxes',
    'stocks',
    'rent',
    'loan',
    'budgeting',
    'insurance',
    'pension',
    'invoice',
    'credit',
    'bills',
    'bonus',
    'spending',
  ],
  software: [
    'database',
    'deploy',
    'bug',
    'typescript',
    'server',
    'laptop',
    'keyboard',
    'editor',
    'tests',
    'release',
    'api',
    'compiler',
    'refactor',
    'container',
  ],
  family: [
    'sister',
    'grandma',
    'cousins',
    'wedding',
    'birthday',
    'kids',
    'parents',
    'nephew',
    'reunion',
    'dinner',
    'babysitter',
    'anniversary',
    'brother',
    'uncle',
  ],
  books: [
    'novel',
    'library',
    'poetry',
    'chapter',
    'author',
    'bookclub',
    'memoir',
    'fantasy',
    'paperback',
    'mystery',
    'biography',
    'audiobook',
    'sequel',
    'essay',
  ],
  sports: [
    'soccer',
    'tennis',
    'marathon',
    'swimming',
    'coach',
    'tournament',
    'basketball',
    'cycling',
    'league',
    'goalkeeper',
    'referee',
    'training',
    'medal',
    'skiing',
  ],
  garden: [
    'roses',
    'compost',
    'seedlings',
    'greenhouse',
    'tulips',
    'herbs',
    'lawn',
    'orchard',
    'soil',
    'weeds',
    'sunflowers',
    'watering',
    'shed',
    'pumpkins',
  ],
  movies: [
    'cinema',
    'documentary',
    'trailer',
    'director',
    'sequel',
    'actor',
    'thriller',
    'subtitles',
    'popcorn',
    'series',
    'comedy',
    'screenplay',
    'premiere',
    'animation',
  ],
  school: [
    'exam',
    'teacher',
    'homework',
    'semester',
    'lecture',
    'thesis',
    'classmates',
    'scholarship',
    'campus',
    'grades',
    'tutor',
    'course',
    'graduation',
    'essay',
  ],
  home: [
    'apartment',
    'kitchen',
    'furniture',
    'landlord',
    'paint',
    'plumber',
    'couch',
    'balcony',
    'neighbors',
    'renovation',
    'garage',
    'curtains',
    'heating',
    'move',
  ],
};
const TOPIC_NAMES = Object.keys(TOPICS);
const PEOPLE = [
  'my sister',
  'my friend Sam',
  'my coworker Priya',
  'my partner',
  'my dad',
  'Alex',
  'my neighbor Jo',
  'my team',
  'our kids',
  'Maria',
];
const TIMES = [
  'yesterday',
  'last weekend',
  'this morning',
  'two weeks ago',
  'on Friday',
  'last month',
  'in the summer',
  'tonight',
  'recently',
  'last year',
];
const FEELINGS = [
  'really happy',
  'a bit nervous',
  'exhausted',
  'proud',
  'relieved',
  'excited',
  'frustrated',
  'grateful',
  'surprised',
  'calm',
];
const VERBS = [
  'tried',
  'finished',
  'started',
  'talked about',
  'planned',
  'bought',
  'fixed',
  'organized',
  'cancelled',
  'shared',
];
const FILLERS = [
  'which honestly took longer than I expected',
  'and I think I will do it again soon',
  'even though the weather was terrible',
  'because everyone kept recommending it',
  'and it turned out much better than last time',
  'so now I need to find a better plan for next time',
  'while trying not to spend too much money',
];

const TEMPLATES: Array<(pick: Picker) => string> = [
  (p) => `${cap(p.time())} I ${p.verb()} the ${p.noun()} with ${p.person()}, ${p.filler()}.`,
  (p) =>
    `I have been thinking about the ${p.noun()} and the ${p.noun()} a lot, and I feel ${p.feeling()} about it.`,
  (p) => `${cap(p.person())} told me the ${p.noun()} was great, so I ${p.verb()} it ${p.time()}.`,
  (p) => `Honestly the ${p.noun()} is what I care about most right now.`,
  (p) => `We ${p.verb()} a new ${p.noun()} ${p.time()} and I was ${p.feeling()}; ${p.filler()}.`,
  (p) => `Do you remember the ${p.noun()}? I ${p.verb()} it with ${p.person()} ${p.time()}.`,
  (p) => `My favorite part was the ${p.noun()}, ${p.filler()}, and the ${p.noun()} came close.`,
  (p) => `I ${p.verb()} the ${p.noun()}.`,
  (p) =>
    `${cap(p.time())} was busy: I ${p.verb()} the ${p.noun()}, then ${p.verb()} the ${p.noun()} with ${p.person()}, and by the evening I felt ${p.feeling()} ${p.filler()}.`,
];

const QUESTION_TEMPLATES: Array<(pick: Picker) => string> = [
  (p) => `What did I say about the ${p.noun()}?`,
  (p) => `When did I last talk about the ${p.noun()} with ${p.person()}?`,
  (p) => `How did I feel about the ${p.noun()}?`,
  (p) => `Which ${p.noun()} did I ${p.verb()} ${p.time()}?`,
];

interface Picker {
  noun(): string;
  person(): string;
  time(): string;
  feeling(): string;
  verb(): string;
  filler(): string;
}

function cap(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** Options of {@link createSyntheticCorpus}. */
export interface SyntheticOptions {
  dimension: number;
  seed?: number;
  /** Vector sub-clusters per topic. @default 8 */
  clustersPerTopic?: number;
  /** Noise added to a centroid before normalising (relative to the unit centroid). @default 0.9 */
  noise?: number;
}

/** A generator of memories (text + vector + topic) and queries drawn from the same topics. */
export interface SyntheticCorpus {
  readonly dimension: number;
  /** The next memory: a sentence and its clustered, L2-normalised vector. */
  memory(): { text: string; vector: Float32Array };
  /** A question text and a vector near one of the clusters its topic uses. */
  query(): { text: string; vector: Float32Array };
}

/** Creates a seeded synthetic corpus. */
export function createSyntheticCorpus(options: SyntheticOptions): SyntheticCorpus {
  const random = createRandom(options.seed ?? 42);
  const clustersPerTopic = options.clustersPerTopic ?? 8;
  const noise = options.noise ?? 0.9;
  const { dimension } = options;
  const centroids = TOPIC_NAMES.map(() =>
    Array.from({ length: clustersPerTopic }, () => {
      const vector = new Float32Array(dimension);
      for (let index = 0; index < dimension; index += 1) vector[index] = gaussian(random);
      return normaliseVector(vector);
    }),
  );
  const pickFrom = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)] as T;
  const picker = (topic: string): Picker => ({
    noun: () => pickFrom(TOPICS[topic] ?? []),
    person: () => pickFrom(PEOPLE),
    time: () => pickFrom(TIMES),
    feeling: () => pickFrom(FEELINGS),
    verb: () => pickFrom(VERBS),
    filler: () => pickFrom(FILLERS),
  });
  const vectorNear = (topicIndex: number, scale: number): Float32Array => {
    const centroid = pickFrom(centroids[topicIndex] ?? []);
    const vector = new Float32Array(dimension);
    const sigma = scale / Math.sqrt(dimension);
    for (let index = 0; index < dimension; index += 1) {
      vector[index] = (centroid[index] ?? 0) + sigma * gaussian(random);
    }
    return normaliseVector(vector);
  };
  return {
    dimension,
    memory() {
      const topicIndex = Math.floor(random() * TOPIC_NAMES.length);
      const topic = TOPIC_NAMES[topicIndex] ?? 'work';
      return { text: pickFrom(TEMPLATES)(picker(topic)), vector: vectorNear(topicIndex, noise) };
    },
    query() {
      const topicIndex = Math.floor(random() * TOPIC_NAMES.length);
      const topic = TOPIC_NAMES[topicIndex] ?? 'work';
      return { text: pickFrom(QUESTION_TEMPLATES)(picker(topic)), vector: vectorNear(topicIndex, noise) };
    },
  };
}
