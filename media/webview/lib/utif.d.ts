// Types for the parts of utif (pure-JS TIFF decoder) the webview uses.
declare module 'utif' {
  interface IFD { width: number; height: number; [tag: string]: unknown }
  function decode(buf: ArrayBuffer): IFD[];
  function decodeImage(buf: ArrayBuffer, ifd: IFD): void;
  function toRGBA8(ifd: IFD): Uint8Array;
  const UTIF: { decode: typeof decode; decodeImage: typeof decodeImage; toRGBA8: typeof toRGBA8 };
  export default UTIF;
  export { decode, decodeImage, toRGBA8, IFD };
}
