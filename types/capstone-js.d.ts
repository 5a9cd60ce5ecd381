/** The slice of @alexaltea/capstone-js (Capstone 5 as WASM) that faultline uses. */
declare module "@alexaltea/capstone-js" {
  interface CapstoneInsn {
    mnemonic: string;
    op_str: string;
    size: number;
    address: bigint;
    bytes: number[];
  }
  interface CapstoneModule {
    Capstone: new (arch: number, mode: number) => { disasm(bytes: number[] | Uint8Array, address: number): CapstoneInsn[]; close(): void };
    ARCH_X86: number;
    MODE_64: number;
  }
  const factory: () => Promise<CapstoneModule>;
  export default factory;
}
