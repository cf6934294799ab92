// Vite's `?raw` imports (a file's text): the unit tests' fixtures.
declare module "*?raw" {
  const text: string;
  export default text;
}
