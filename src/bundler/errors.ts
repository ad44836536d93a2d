/** Input the bundler cannot use (files, flags, shapes that disagree). The CLI prints it and exits 2. */
export class BundleInputError extends Error {
  override name = 'BundleInputError'
}
