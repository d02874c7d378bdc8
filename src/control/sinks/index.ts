import type { SampleSink } from './sink.ts';

/** The sinks that are on, in a fixed order: the control endpoint (made by the caller, which reports status with it). */
export async function openSinks(control: SampleSink | null): Promise<SampleSink[]> {
  return control === null ? [] : [control];
}
