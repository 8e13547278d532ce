# SPDX-FileCopyrightText: © 2026 Tenstorrent AI ULC
# SPDX-License-Identifier: Apache-2.0
"""A minimal RISC-V ELF32 executable for the stub kernel compiler.

tt-metal parses every kernel and firmware binary it "builds" (llrt/tt_elffile.cpp)
before handing it to the (mocked) device, so the stub compiler must leave a
structurally valid file behind. The loader requires:

* ELF32, little endian, ``ET_EXEC``, ``e_machine == EM_RISCV`` (243);
* program headers, the first loadable segment being text and starting at
  ``e_entry``;
* section headers with a section-name string table; allocatable sections,
  symbol tables and relocation sections word aligned and inside a segment;
* at least one ``SHT_RELA`` section relocating an allocated section (it refuses
  binaries "with no relocation sections" when making kernels execute-in-place).

The image below has one ``PT_LOAD`` segment holding a 4-byte ``.text`` (a single
``ret``), an empty ``.rela.text``, ``.symtab``/``.strtab`` with one ``_start``
symbol, and ``.shstrtab``. Nothing ever executes it.
"""

from __future__ import annotations

import struct

EM_RISCV = 243
_TEXT_ADDR = 0x0  # the mocked device never loads it; XIP kernels are relocated to 0 anyway
_RET = 0x00008067  # jalr x0, 0(x1)

# Section indices.
_TEXT, _RELA, _SYMTAB, _STRTAB, _SHSTRTAB = 1, 2, 3, 4, 5


def _align(n: int, to: int = 4) -> int:
    return (n + to - 1) & ~(to - 1)


def minimal_riscv_elf() -> bytes:
    """Return the bytes of a minimal loadable RISC-V ELF32 executable."""
    ehdr_size, phdr_size, shdr_size = 52, 32, 40

    text = struct.pack("<I", _RET)
    strtab = b"\0_start\0"
    # Symbol 0 is the mandatory null symbol; `_start` is a global function in .text.
    st_info_global_func = (1 << 4) | 2
    symtab = bytes(16) + struct.pack("<IIIBBH", 1, _TEXT_ADDR, len(text), st_info_global_func, 0, _TEXT)
    names = [b"", b".text", b".rela.text", b".symtab", b".strtab", b".shstrtab"]
    shstrtab = b"\0".join(names) + b"\0"
    name_off = {}
    off = 0
    for n in names:
        name_off[n] = off
        off += len(n) + 1

    # File layout: ehdr | phdr | .text | .symtab | .strtab | .shstrtab | (pad) | shdrs
    text_off = ehdr_size + phdr_size
    symtab_off = _align(text_off + len(text))
    strtab_off = symtab_off + len(symtab)
    shstrtab_off = strtab_off + len(strtab)
    shdr_off = _align(shstrtab_off + len(shstrtab))
    rela_off = symtab_off  # empty section: any aligned offset inside the file

    ident = b"\x7fELF" + bytes([1, 1, 1, 0]) + bytes(8)  # ELFCLASS32, LSB, EV_CURRENT, SYSV
    ehdr = ident + struct.pack(
        "<HHIIIIIHHHHHH",
        2,  # ET_EXEC
        EM_RISCV,
        1,  # EV_CURRENT
        _TEXT_ADDR,  # e_entry == start of the text segment
        ehdr_size,  # e_phoff
        shdr_off,  # e_shoff
        0,  # e_flags
        ehdr_size,
        phdr_size,
        1,  # e_phnum
        shdr_size,
        6,  # e_shnum
        _SHSTRTAB,
    )
    # PT_LOAD, R+X, covering .text only.
    phdr = struct.pack("<IIIIIIII", 1, text_off, _TEXT_ADDR, _TEXT_ADDR, len(text), len(text), 5, 4)

    def shdr(name: bytes, type_: int, flags: int, addr: int, offset: int, size: int, link=0, info=0, align=4,
             entsize=0) -> bytes:
        return struct.pack("<IIIIIIIIII", name_off[name], type_, flags, addr, offset, size, link, info, align, entsize)

    shdrs = b"".join(
        [
            bytes(shdr_size),
            shdr(b".text", 1, 0x6, _TEXT_ADDR, text_off, len(text)),  # PROGBITS, ALLOC|EXECINSTR
            # RELA with SHF_INFO_LINK: relocates section .text, symbols from .symtab; entsize must be non-zero.
            shdr(b".rela.text", 4, 0x40, 0, rela_off, 0, link=_SYMTAB, info=_TEXT, entsize=12),
            # SYMTAB: sh_info = index of the first non-local symbol.
            shdr(b".symtab", 2, 0, 0, symtab_off, len(symtab), link=_STRTAB, info=1, entsize=16),
            shdr(b".strtab", 3, 0, 0, strtab_off, len(strtab), align=1),
            shdr(b".shstrtab", 3, 0, 0, shstrtab_off, len(shstrtab), align=1),
        ]
    )

    image = bytearray(shdr_off + len(shdrs))
    image[0 : len(ehdr)] = ehdr
    image[ehdr_size : ehdr_size + phdr_size] = phdr
    image[text_off : text_off + len(text)] = text
    image[symtab_off : symtab_off + len(symtab)] = symtab
    image[strtab_off : strtab_off + len(strtab)] = strtab
    image[shstrtab_off : shstrtab_off + len(shstrtab)] = shstrtab
    image[shdr_off:] = shdrs
    return bytes(image)
