// The demo's progress display: one line per step with ✓ / ✗ and its elapsed seconds. On a terminal
// the running step's line has a spinner and a live clock; anywhere else (CI logs, a pipe) each step
// prints a start line and an end line, with no escape codes, so the log reads top to bottom.

export type StepState = 'running' | 'ok' | 'failed';

export interface StepRecord {
  readonly title: string;
  state: StepState;
  ms: number;
  /** A short result shown on the step's line, e.g. "6 sessions up". */
  note?: string;
}

export interface Style {
  /** ANSI colours (a terminal without NO_COLOR). */
  readonly color: boolean;
}

export const SPINNER_FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'] as const;

const paint = (style: Style, code: number, text: string) =>
  style.color ? `\x1b[${code}m${text}\x1b[0m` : text;
export const bold = (style: Style, text: string) => paint(style, 1, text);
export const dim = (style: Style, text: string) => paint(style, 2, text);
export const green = (style: Style, text: string) => paint(style, 32, text);
export const red = (style: Style, text: string) => paint(style, 31, text);

/** 1234 → "1.2s"; a minute and more → "1m05s". */
export function formatSeconds(ms: number): string {
  const tenths = Math.round(Math.max(0, ms) / 100);
  if (tenths < 600) return `${(tenths / 10).toFixed(1)}s`;
  const seconds = Math.round(ms / 1000);
  return `${Math.floor(seconds / 60)}m${String(seconds % 60).padStart(2, '0')}s`;
}

/** The mark a step shows in its state; `frame` picks the spinner frame of a running step. */
export function stepMark(state: StepState, style: Style, frame = 0): string {
  if (state === 'ok') return green(style, '✓');
  if (state === 'failed') return red(style, '✗');
  return SPINNER_FRAMES[frame % SPINNER_FRAMES.length]!;
}

/** `✓ title  1.2s  (note)`: a step's line. */
export function stepLine(step: StepRecord, style: Style, frame = 0): string {
  const note = step.note ? `  ${dim(style, step.note)}` : '';
  return `${stepMark(step.state, style, frame)} ${step.title}  ${dim(style, formatSeconds(step.ms))}${note}`;
}

/** `text` indented under its step, blank lines kept short. */
export function indent(text: string, by = 4): string {
  const pad = ' '.repeat(by);
  return text
    .replace(/\s+$/, '')
    .split('\n')
    .map((line) => (line.trim() === '' ? '' : pad + line))
    .join('\n');
}

/** What a step's body may do while it runs. */
export interface StepContext {
  /** Text printed under the step's line once it ends (a table, a matrix). */
  show(text: string): void;
  /** The short result on the step's line. */
  note(text: string): void;
}

/** A step that failed: names the step, keeps the cause. */
export class StepFailure extends Error {
  constructor(
    readonly step: string,
    override readonly cause: Error,
  ) {
    super(`step "${step}" failed: ${cause.message}`);
  }
}

export interface Output {
  write(text: string): unknown;
}

export interface ProgressOptions extends Style {
  /** Redraw the running step's line in place (a terminal); otherwise plain lines. */
  readonly live: boolean;
  /** Injectable clock (tests). */
  readonly now?: () => number;
  /** The terminal's width: a live line longer than this would wrap and could not be redrawn. */
  readonly columns?: number | undefined;
}

export class Progress {
  private readonly steps: StepRecord[] = [];
  private readonly now: () => number;
  /** The running step and what ends its display, while one runs. */
  private active: { record: StepRecord; started: number; stop: () => void } | undefined;
  /** Why the run was abandoned, once it was. */
  private abandoned: string | undefined;

  constructor(
    private readonly out: Output,
    readonly options: ProgressOptions,
  ) {
    this.now = options.now ?? Date.now;
  }

  /** Every step so far, in order. */
  records(): readonly StepRecord[] {
    return this.steps;
  }

  /**
   * Runs `body` as one step; throws StepFailure if it throws. Once `abandon` was called, steps do
   * not start (they throw at once) unless `afterAbandon` is set: the teardown's step.
   */
  async step<T>(
    title: string,
    body: (step: StepContext) => Promise<T>,
    options: { afterAbandon?: boolean } = {},
  ): Promise<T> {
    if (this.abandoned !== undefined && !options.afterAbandon) {
      throw new StepFailure(title, new Error(`not started: ${this.abandoned}`));
    }
    const record: StepRecord = { title, state: 'running', ms: 0 };
    this.steps.push(record);
    const shown: string[] = [];
    const context: StepContext = {
      show: (text) => shown.push(text),
      note: (text) => {
        record.note = text;
      },
    };
    const started = this.now();
    const active = { record, started, stop: this.startTicker(record, started) };
    this.active = active;
    try {
      const result = await body(context);
      if (this.active === active) record.state = 'ok';
      return result;
    } catch (error) {
      if (this.active === active) {
        record.state = 'failed';
        record.note = undefined;
      }
      throw error instanceof StepFailure ? error : new StepFailure(title, error as Error);
    } finally {
      // A step abandoned by an interrupt has had its line already; whatever it does later is noise.
      if (this.active === active) {
        this.active = undefined;
        record.ms = this.now() - started;
        active.stop();
        this.out.write(`${stepLine(record, this.options)}\n`);
        for (const text of shown) this.out.write(`${indent(text)}\n\n`);
      }
    }
  }

  /**
   * Ends the running step's display as failed with `reason` (Ctrl-C), and keeps further steps from
   * starting, except those marked `afterAbandon`.
   */
  abandon(reason: string): void {
    this.abandoned ??= reason;
    const active = this.active;
    if (!active) return;
    this.active = undefined;
    active.stop();
    active.record.state = 'failed';
    active.record.ms = this.now() - active.started;
    active.record.note = reason;
    this.out.write(`${stepLine(active.record, this.options)}\n`);
  }

  /** A line outside any step (a heading, a hint). */
  line(text = ''): void {
    this.out.write(`${text}\n`);
  }

  /** Live: redraws the step's line every 100 ms; plain: one start line. Returns what ends it. */
  private startTicker(record: StepRecord, started: number): () => void {
    if (!this.options.live) {
      this.out.write(`${dim(this.options, '…')} ${record.title}\n`);
      return () => {};
    }
    let frame = 0;
    const room = (this.options.columns ?? 0) - 12; // mark, spaces and the clock
    const title =
      room > 0 && record.title.length > room ? `${record.title.slice(0, room - 1)}…` : record.title;
    const draw = () => {
      record.ms = this.now() - started;
      this.out.write(
        `\r\x1b[2K${stepLine({ title, state: 'running', ms: record.ms }, this.options, frame++)}`,
      );
    };
    draw();
    const timer = setInterval(draw, 100);
    return () => {
      clearInterval(timer);
      this.out.write('\r\x1b[2K');
    };
  }
}
