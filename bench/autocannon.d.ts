/** The part of autocannon's API the harness uses (the package ships no types). */
declare module 'autocannon' {
  export interface RawRequest {
    method?: string;
    path?: string;
    headers?: Record<string, string>;
    body?: string;
  }
  interface Options {
    url: string;
    connections?: number;
    duration?: number;
    pipelining?: number;
    /** Requests per second over all connections (0: as fast as the server answers). */
    overallRate?: number;
    /**
     * Requests each connection sends in turn, prebuilt once. (autocannon's `setupRequest` callback
     * is left out on purpose: the harness spends no JavaScript per request.)
     */
    requests?: RawRequest[];
  }
  interface Result {
    duration: number;
    errors: number;
    timeouts: number;
    non2xx: number;
    '2xx': number;
    requests: { total: number; average: number };
  }
  function autocannon(options: Options): Promise<Result>;
  export default autocannon;
}
