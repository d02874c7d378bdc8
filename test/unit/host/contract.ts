import assert from 'node:assert/strict';
import { describe, test, type TestContext } from 'node:test';

import type { Host } from '../../../src/host/host.ts';
import { UnsafePathError } from '../../../src/host/host.ts';

/**
 * What every Host does with files, run against the real Host on a scratch directory and against the FakeHost
 * the unit tests use: a unit test on the fake means what it says only while both pass. The real Host is the
 * truth; where they differ, the fake is wrong. Paths are the managed system's.
 */
export interface ContractSubject {
  readonly host: Host;
  /** An existing empty directory the test works in. */
  readonly base: string;
  /** Makes a symbolic link (the Host has no method for it: the agent never makes one). */
  symlink(target: string, path: string): Promise<void>;
}

export type SubjectMaker = (t: TestContext) => Promise<ContractSubject>;

const EMPTY = new Uint8Array();
const encode = (text: string): Uint8Array => new TextEncoder().encode(text);

export function hostContract(name: string, make: SubjectMaker): void {
  describe(`Host contract: ${name}`, () => {
    readingContract(make);
    writingContract(make);
    createAndLinkContract(make);
    statContract(make);
    directoryContract(make);
    rmContract(make);
    renameContract(make);
    readerAndAppendContract(make);
    noFollowContract(make);
  });
}

function readingContract(make: SubjectMaker): void {
  test('readText and readBytes return what was written, bytes exactly', async (t) => {
    const { host, base } = await make(t);
    await host.writeFileAtomic(`${base}/text`, 'héllo\n');
    await host.writeFileAtomic(`${base}/bytes`, new Uint8Array([0, 255, 10, 128]));
    assert.equal(await host.readText(`${base}/text`), 'héllo\n');
    assert.deepEqual(new Uint8Array(await host.readBytes(`${base}/bytes`)), new Uint8Array([0, 255, 10, 128]));
    await host.writeFileAtomic(`${base}/empty`, EMPTY);
    assert.equal(await host.readText(`${base}/empty`), '');
  });

  test('reading: a missing file is ENOENT, a directory EISDIR, a path below a file ENOTDIR', async (t) => {
    const { host, base } = await make(t);
    await host.writeFileAtomic(`${base}/file`, 'x');
    await host.mkdir(`${base}/dir`);
    await assert.rejects(host.readText(`${base}/missing`), { code: 'ENOENT' });
    await assert.rejects(host.readBytes(`${base}/missing-dir/file`), { code: 'ENOENT' });
    await assert.rejects(host.readText(`${base}/dir`), { code: 'EISDIR' });
    await assert.rejects(host.readText(`${base}/file/below`), { code: 'ENOTDIR' });
  });

  test('reads follow symlinks, relative and absolute, final and on the way; a dangling one is ENOENT', async (t) => {
    const s = await make(t);
    const { host, base } = s;
    await host.mkdir(`${base}/real/sub`);
    await host.writeFileAtomic(`${base}/real/sub/file`, 'content');
    await s.symlink('real/sub/file', `${base}/relative`);
    await s.symlink(`${base}/real`, `${base}/absolute-dir`);
    await s.symlink('nowhere', `${base}/dangling`);
    assert.equal(await host.readText(`${base}/relative`), 'content');
    assert.equal(await host.readText(`${base}/absolute-dir/sub/file`), 'content');
    assert.equal(await host.readText(`${base}/absolute-dir/sub/../sub/file`), 'content');
    await assert.rejects(host.readText(`${base}/dangling`), { code: 'ENOENT' });
  });
}

function writingContract(make: SubjectMaker): void {
  test('writeFileAtomic: mode 0644 by default, the mode and owner asked for exactly, no temp file left', async (t) => {
    const { host, base } = await make(t);
    await host.writeFileAtomic(`${base}/plain`, 'a');
    await host.writeFileAtomic(`${base}/secret`, 'b', { mode: 0o600, uid: 65534, gid: 65533 });
    await host.writeFileAtomic(`${base}/wide`, 'c', { mode: 0o666 });
    assert.deepEqual(pick(await host.stat(`${base}/plain`)), file(1, 0o644));
    assert.deepEqual(pick(await host.stat(`${base}/secret`)), file(1, 0o600, 65534, 65533));
    assert.equal((await host.stat(`${base}/wide`))?.mode, 0o666, 'the umask does not narrow it');
    assert.deepEqual(await host.readdir(base), ['plain', 'secret', 'wide']);
  });

  test('writeFileAtomic over a file keeps its mode and owner unless given, and replaces the content', async (t) => {
    const { host, base } = await make(t);
    await host.writeFileAtomic(`${base}/f`, 'old and longer', { mode: 0o640, uid: 65534, gid: 65533 });
    await host.writeFileAtomic(`${base}/f`, 'new');
    assert.deepEqual(pick(await host.stat(`${base}/f`)), file(3, 0o640, 65534, 65533));
    assert.equal(await host.readText(`${base}/f`), 'new');
    await host.writeFileAtomic(`${base}/f`, 'newer', { mode: 0o600, uid: 0 });
    assert.deepEqual(pick(await host.stat(`${base}/f`)), file(5, 0o600, 0, 65533));
  });

  test('writeFileAtomic: into a missing directory ENOENT, below a file ENOTDIR, onto a directory EISDIR', async (t) => {
    const { host, base } = await make(t);
    await host.writeFileAtomic(`${base}/file`, 'kept');
    await host.mkdir(`${base}/dir`);
    await assert.rejects(host.writeFileAtomic(`${base}/missing/f`, 'x'), { code: 'ENOENT' });
    await assert.rejects(host.writeFileAtomic(`${base}/file/f`, 'x'), { code: 'ENOTDIR' });
    await assert.rejects(host.writeFileAtomic(`${base}/dir`, 'x'), { code: 'EISDIR' });
    assert.equal((await host.stat(`${base}/dir`))?.kind, 'directory');
    assert.deepEqual(await host.readdir(base), ['dir', 'file']);
    assert.deepEqual(await host.readdir(`${base}/dir`), []);
  });

  test('writeFileAtomic replaces a symlink with a file (of its target mode), the target untouched', async (t) => {
    const s = await make(t);
    const { host, base } = s;
    await host.writeFileAtomic(`${base}/target`, 'precious', { mode: 0o600 });
    await s.symlink(`${base}/target`, `${base}/link`);
    await host.writeFileAtomic(`${base}/link`, 'new');
    assert.equal(await host.readText(`${base}/target`), 'precious');
    assert.deepEqual(pick(await host.lstat(`${base}/link`)), file(3, 0o600));
    await s.symlink('nowhere', `${base}/dangling`);
    await host.writeFileAtomic(`${base}/dangling`, 'x');
    assert.equal((await host.lstat(`${base}/dangling`))?.mode, 0o644);
    assert.equal(await host.stat(`${base}/nowhere`), null);
  });
}

function createAndLinkContract(make: SubjectMaker): void {
  test('createExclusive creates a file with its mode; false, changing nothing, when any name is there', async (t) => {
    const s = await make(t);
    const { host, base } = s;
    assert.equal(await host.createExclusive(`${base}/new`, 'first', { mode: 0o600 }), true);
    assert.deepEqual(pick(await host.stat(`${base}/new`)), file(5, 0o600));
    await host.mkdir(`${base}/dir`);
    await s.symlink('nowhere', `${base}/dangling`);
    for (const name of ['new', 'dir', 'dangling']) {
      assert.equal(await host.createExclusive(`${base}/${name}`, 'second'), false, name);
    }
    assert.equal(await host.readText(`${base}/new`), 'first');
    assert.equal(await host.stat(`${base}/nowhere`), null, 'a dangling symlink is not written through');
    await assert.rejects(host.createExclusive(`${base}/missing/f`, 'x'), { code: 'ENOENT' });
  });

  test('linkExclusive gives a file a second name; false when the name is taken', async (t) => {
    const s = await make(t);
    const { host, base } = s;
    await host.writeFileAtomic(`${base}/a`, 'shared', { mode: 0o600 });
    assert.equal(await host.linkExclusive(`${base}/a`, `${base}/b`), true);
    assert.deepEqual(pick(await host.stat(`${base}/b`)), file(6, 0o600));
    assert.equal(await host.readText(`${base}/b`), 'shared');
    await host.writeFileAtomic(`${base}/c`, 'other');
    await host.mkdir(`${base}/dir`);
    await s.symlink('nowhere', `${base}/dangling`);
    for (const name of ['c', 'dir', 'dangling']) {
      assert.equal(await host.linkExclusive(`${base}/a`, `${base}/${name}`), false, name);
    }
    assert.equal(await host.readText(`${base}/c`), 'other');
  });

  test('linkExclusive: a missing source is ENOENT, a directory EPERM, a missing target directory ENOENT', async (t) => {
    const { host, base } = await make(t);
    await host.writeFileAtomic(`${base}/a`, 'x');
    await host.mkdir(`${base}/dir`);
    await assert.rejects(host.linkExclusive(`${base}/missing`, `${base}/b`), { code: 'ENOENT' });
    await assert.rejects(host.linkExclusive(`${base}/dir`, `${base}/b`), { code: 'EPERM' });
    await assert.rejects(host.linkExclusive(`${base}/a`, `${base}/missing/b`), { code: 'ENOENT' });
    assert.deepEqual(await host.readdir(base), ['a', 'dir']);
  });
}

function statContract(make: SubjectMaker): void {
  test('stat and lstat: null when nothing is there, also below a missing directory or a file', async (t) => {
    const { host, base } = await make(t);
    await host.writeFileAtomic(`${base}/file`, 'x');
    for (const path of [`${base}/missing`, `${base}/missing/deeper`, `${base}/file/below`]) {
      assert.equal(await host.stat(path), null, path);
      assert.equal(await host.lstat(path), null, path);
    }
  });

  test('stat follows symlinks; lstat follows those on the way but not a final one', async (t) => {
    const s = await make(t);
    const { host, base } = s;
    await host.mkdir(`${base}/dir`, { mode: 0o750 });
    await host.writeFileAtomic(`${base}/dir/file`, 'four', { mode: 0o640 });
    await s.symlink('dir', `${base}/dir-link`);
    await s.symlink(`${base}/dir/file`, `${base}/file-link`);
    await s.symlink('nowhere', `${base}/dangling`);
    assert.equal((await host.stat(`${base}/dir`))?.mode, 0o750);
    assert.equal((await host.stat(`${base}/dir`))?.kind, 'directory');
    assert.equal((await host.stat(`${base}/dir-link`))?.kind, 'directory');
    assert.deepEqual(pick(await host.stat(`${base}/file-link`)), file(4, 0o640));
    assert.deepEqual(pick(await host.lstat(`${base}/dir-link/file`)), file(4, 0o640));
    const link = await host.lstat(`${base}/file-link`);
    assert.deepEqual(pick(link), { ...file(`${base}/dir/file`.length, 0o777), kind: 'symlink' }, 'sized as its target');
    assert.equal(await host.stat(`${base}/dangling`), null);
    assert.equal((await host.lstat(`${base}/dangling`))?.kind, 'symlink');
  });
}

function directoryContract(make: SubjectMaker): void {
  test('readdir lists the names directly inside, sorted: files, directories and symlinks', async (t) => {
    const s = await make(t);
    const { host, base } = s;
    await host.mkdir(`${base}/b-dir/deeper`);
    await host.writeFileAtomic(`${base}/c-file`, 'x');
    await host.writeFileAtomic(`${base}/b-dir/inside`, 'x');
    await s.symlink('nowhere', `${base}/a-link`);
    assert.deepEqual(await host.readdir(base), ['a-link', 'b-dir', 'c-file']);
    assert.deepEqual(await host.readdir(`${base}/b-dir`), ['deeper', 'inside']);
    assert.deepEqual(await host.readdir(`${base}/b-dir/deeper`), []);
  });

  test('readdir follows a symlink to a directory; a missing one is ENOENT, a file ENOTDIR', async (t) => {
    const s = await make(t);
    const { host, base } = s;
    await host.mkdir(`${base}/dir`);
    await host.writeFileAtomic(`${base}/dir/f`, 'x');
    await s.symlink('dir', `${base}/link`);
    assert.deepEqual(await host.readdir(`${base}/link`), ['f']);
    await assert.rejects(host.readdir(`${base}/missing`), { code: 'ENOENT' });
    await assert.rejects(host.readdir(`${base}/dir/f`), { code: 'ENOTDIR' });
  });

  test('mkdir creates missing parents with the mode asked for (0755 by default)', async (t) => {
    const { host, base } = await make(t);
    await host.mkdir(`${base}/private/a/b`, { mode: 0o700 });
    await host.mkdir(`${base}/public/a`);
    for (const path of ['private', 'private/a', 'private/a/b']) {
      assert.equal((await host.stat(`${base}/${path}`))?.mode, 0o700, path);
    }
    for (const path of ['public', 'public/a']) assert.equal((await host.stat(`${base}/${path}`))?.mode, 0o755, path);
    assert.equal((await host.stat(`${base}/private/a/b`))?.kind, 'directory');
  });

  test('mkdir of an existing directory changes nothing; over a file it is EEXIST, below one ENOTDIR', async (t) => {
    const s = await make(t);
    const { host, base } = s;
    await host.mkdir(`${base}/dir`, { mode: 0o750 });
    await host.writeFileAtomic(`${base}/dir/keep`, 'x');
    await host.mkdir(`${base}/dir`, { mode: 0o700 });
    await host.mkdir(`${base}/dir`);
    assert.equal((await host.stat(`${base}/dir`))?.mode, 0o750);
    assert.deepEqual(await host.readdir(`${base}/dir`), ['keep']);
    await assert.rejects(host.mkdir(`${base}/dir/keep`), { code: 'EEXIST' });
    await assert.rejects(host.mkdir(`${base}/dir/keep/below`), { code: 'ENOTDIR' });
    await s.symlink('dir', `${base}/link`);
    await host.mkdir(`${base}/link/made`);
    assert.deepEqual(await host.readdir(`${base}/dir`), ['keep', 'made'], 'made through a symlink, in its target');
  });
}

function rmContract(make: SubjectMaker): void {
  test('rm removes a file; nothing there is fine, even below a missing directory; below a file ENOTDIR', async (t) => {
    const { host, base } = await make(t);
    await host.writeFileAtomic(`${base}/f`, 'x');
    await host.rm(`${base}/f`);
    await host.rm(`${base}/f`);
    await host.rm(`${base}/missing/f`, { recursive: true });
    assert.deepEqual(await host.readdir(base), []);
    await host.writeFileAtomic(`${base}/file`, 'x');
    await assert.rejects(host.rm(`${base}/file/below`), { code: 'ENOTDIR' });
  });

  test('rm of a directory without recursive fails (ERR_FS_EISDIR), empty or not, and removes nothing', async (t) => {
    const { host, base } = await make(t);
    await host.mkdir(`${base}/empty`);
    await host.mkdir(`${base}/full/sub`);
    await host.writeFileAtomic(`${base}/full/sub/f`, 'x');
    await assert.rejects(host.rm(`${base}/empty`), { code: 'ERR_FS_EISDIR' });
    await assert.rejects(host.rm(`${base}/full`), { code: 'ERR_FS_EISDIR' });
    assert.deepEqual(await host.readdir(base), ['empty', 'full']);
    assert.equal(await host.readText(`${base}/full/sub/f`), 'x');
  });

  test('rm recursive removes a whole tree and nothing beside it', async (t) => {
    const { host, base } = await make(t);
    await host.mkdir(`${base}/tree/a/b`);
    await host.writeFileAtomic(`${base}/tree/a/b/f`, 'x');
    await host.writeFileAtomic(`${base}/tree/g`, 'x');
    await host.mkdir(`${base}/tree2`);
    await host.writeFileAtomic(`${base}/tree-file`, 'x');
    await host.rm(`${base}/tree`, { recursive: true });
    assert.deepEqual(await host.readdir(base), ['tree-file', 'tree2']);
    assert.equal(await host.stat(`${base}/tree/a/b/f`), null);
  });

  test('rm of a symlink removes the link, never its target', async (t) => {
    const s = await make(t);
    const { host, base } = s;
    await host.mkdir(`${base}/dir`);
    await host.writeFileAtomic(`${base}/dir/f`, 'x');
    await s.symlink('dir', `${base}/dir-link`);
    await s.symlink('dir/f', `${base}/file-link`);
    await host.rm(`${base}/dir-link`, { recursive: true });
    await host.rm(`${base}/file-link`);
    assert.deepEqual(await host.readdir(base), ['dir']);
    assert.deepEqual(await host.readdir(`${base}/dir`), ['f']);
  });
}

function renameContract(make: SubjectMaker): void {
  test('rename moves a file, replacing a file or symlink at the destination, keeping mode and content', async (t) => {
    const s = await make(t);
    const { host, base } = s;
    await host.writeFileAtomic(`${base}/a`, 'moved', { mode: 0o600 });
    await host.writeFileAtomic(`${base}/b`, 'replaced');
    await host.rename(`${base}/a`, `${base}/b`);
    assert.deepEqual(await host.readdir(base), ['b']);
    assert.deepEqual(pick(await host.stat(`${base}/b`)), file(5, 0o600));
    await s.symlink('nowhere', `${base}/link`);
    await host.rename(`${base}/b`, `${base}/link`);
    assert.equal(await host.readText(`${base}/link`), 'moved');
    assert.equal(await host.stat(`${base}/nowhere`), null);
  });

  test('rename moves a directory with everything in it, onto nothing or an empty directory', async (t) => {
    const s = await make(t);
    const { host, base } = s;
    await host.mkdir(`${base}/from/sub`, { mode: 0o700 });
    await host.writeFileAtomic(`${base}/from/sub/f`, 'x', { mode: 0o600 });
    await s.symlink('sub/f', `${base}/from/link`);
    await host.rename(`${base}/from`, `${base}/to`);
    assert.deepEqual(await host.readdir(base), ['to']);
    assert.deepEqual(await host.readdir(`${base}/to`), ['link', 'sub']);
    assert.equal((await host.stat(`${base}/to/sub`))?.mode, 0o700);
    assert.equal(await host.readText(`${base}/to/link`), 'x');
    await host.mkdir(`${base}/empty`);
    await host.rename(`${base}/to`, `${base}/empty`);
    assert.deepEqual(await host.readdir(base), ['empty']);
    assert.deepEqual(await host.readdir(`${base}/empty/sub`), ['f']);
  });

  test('rename moves a symlink itself, not its target', async (t) => {
    const s = await make(t);
    const { host, base } = s;
    await host.writeFileAtomic(`${base}/target`, 'x');
    await s.symlink(`${base}/target`, `${base}/link`);
    await host.rename(`${base}/link`, `${base}/moved`);
    assert.deepEqual(await host.readdir(base), ['moved', 'target']);
    assert.equal((await host.lstat(`${base}/moved`))?.kind, 'symlink');
  });

  test('rename errors, each changing nothing: ENOENT, EISDIR, ENOTDIR, ENOTEMPTY, EINVAL', async (t) => {
    const { host, base } = await make(t);
    await host.writeFileAtomic(`${base}/file`, 'x');
    await host.mkdir(`${base}/dir/sub`);
    await host.mkdir(`${base}/full/inside`);
    const before = await host.readdir(base);
    await assert.rejects(host.rename(`${base}/missing`, `${base}/new`), { code: 'ENOENT' });
    await assert.rejects(host.rename(`${base}/file`, `${base}/missing/new`), { code: 'ENOENT' });
    await assert.rejects(host.rename(`${base}/file`, `${base}/dir`), { code: 'EISDIR' });
    await assert.rejects(host.rename(`${base}/dir`, `${base}/file`), { code: 'ENOTDIR' });
    await assert.rejects(host.rename(`${base}/dir`, `${base}/full`), { code: 'ENOTEMPTY' });
    await assert.rejects(host.rename(`${base}/dir`, `${base}/dir/sub/inner`), { code: 'EINVAL' });
    assert.deepEqual(await host.readdir(base), before);
    assert.deepEqual(await host.readdir(`${base}/dir`), ['sub']);
    assert.deepEqual(await host.readdir(`${base}/full`), ['inside']);
  });
}

function readerAndAppendContract(make: SubjectMaker): void {
  test('a reader reads the whole file each time, sees changes in place, keeps a file renamed over', async (t) => {
    const { host, base } = await make(t);
    await host.writeFileAtomic(`${base}/f`, 'one\n');
    const reader = await host.openReader(`${base}/f`);
    assert.equal(await reader.read(), 'one\n');
    await host.appendFile(`${base}/f`, 'two\n');
    assert.equal(await reader.read(), 'one\ntwo\n');
    await host.writeFileAtomic(`${base}/f`, 'replaced\n');
    assert.equal(await reader.read(), 'one\ntwo\n', 'the file opened, not the name');
    await reader.close();
    await assert.rejects(reader.read());
    await assert.rejects(host.openReader(`${base}/missing`), { code: 'ENOENT' });
  });

  test('appendFile creates with the mode asked for, appends keeping the mode, follows a symlink', async (t) => {
    const s = await make(t);
    const { host, base } = s;
    await host.appendFile(`${base}/log`, 'a\n', { mode: 0o600 });
    await host.appendFile(`${base}/log`, 'b\n', { mode: 0o644 });
    assert.equal(await host.readText(`${base}/log`), 'a\nb\n');
    assert.equal((await host.stat(`${base}/log`))?.mode, 0o600);
    await s.symlink('log', `${base}/link`);
    await host.appendFile(`${base}/link`, 'c\n');
    assert.equal(await host.readText(`${base}/log`), 'a\nb\nc\n');
    await s.symlink(`${base}/created`, `${base}/dangling`);
    await host.appendFile(`${base}/dangling`, 'd\n');
    assert.equal(await host.readText(`${base}/created`), 'd\n');
  });

  test('appendFile fails into a missing directory (ENOENT) and onto a directory (EISDIR)', async (t) => {
    const { host, base } = await make(t);
    await host.mkdir(`${base}/dir`);
    await assert.rejects(host.appendFile(`${base}/missing/log`, 'x'), { code: 'ENOENT' });
    await assert.rejects(host.appendFile(`${base}/dir`, 'x'), { code: 'EISDIR' });
  });
}

function noFollowContract(make: SubjectMaker): void {
  test('readFileNoFollow: the file, at most maxBytes; null when it or a directory above it is missing', async (t) => {
    const { host, base } = await make(t);
    await host.mkdir(`${base}/home/.ssh`, { mode: 0o700 });
    await host.writeFileAtomic(`${base}/home/.ssh/keys`, 'ssh-ed25519 AAAA', { mode: 0o600, uid: 1000, gid: 1000 });
    const found = await host.readFileNoFollow(`${base}/home`, '.ssh/keys', 7);
    assert.deepEqual(pick(found?.info ?? null), file(16, 0o600, 1000, 1000));
    assert.deepEqual(new Uint8Array(found?.data ?? EMPTY), encode('ssh-ed2'));
    assert.equal(await host.readFileNoFollow(`${base}/home`, '.ssh/missing', 10), null);
    assert.equal(await host.readFileNoFollow(`${base}/home`, 'missing/keys', 10), null);
  });

  test('readFileNoFollow refuses a symlink (final or on the way), a directory, a file on the way, ".."', async (t) => {
    const { host, base } = await withHostileHome(await make(t));
    for (const [relative, message] of [
      ['link', /link is a symbolic link/],
      ['dir-link/secret', /dir-link is a symbolic link/],
      ['dir', /dir is not a regular file/],
      ['file/below', /file is not a directory/],
      ['../secret', /not a plain relative path/],
      ['dir/../../secret', /not a plain relative path/],
      ['', /not a plain relative path/],
    ] as const) {
      const refused = (error: unknown) => error instanceof UnsafePathError && message.test(error.message);
      await assert.rejects(host.readFileNoFollow(`${base}/home`, relative, 100), refused, relative);
    }
  });

  test("readFilesNoFollow: each file with the directories on the way; a refusal is that file's alone", async (t) => {
    const { host, base } = await withHostileHome(await make(t));
    const owned = { dirMode: 0o700, mode: 0o600, uid: 1000, gid: 1001 };
    await host.writeFileNoFollow(`${base}/home`, 'alice/.ssh/keys', 'ssh-ed25519 AAAA', owned);
    await host.mkdir(`${base}/home/bob`);
    const relatives = ['alice/.ssh/keys', 'link', 'bob/.ssh/keys', 'dir-link/secret', 'carol/.ssh/keys', 'dir/../x'];
    const reads = await host.readFilesNoFollow(`${base}/home`, relatives, 7);
    const shown = reads.map((read) =>
      'refused' in read
        ? read.refused.replace(base, 'BASE')
        : {
            directories: read.directories.map((info) => pick(info, 'directory')),
            file: read.file && { info: pick(read.file.info), data: Buffer.from(read.file.data).toString() },
          },
    );
    assert.deepEqual(shown, [
      {
        directories: [directory(0o700, 1000, 1001), directory(0o700, 1000, 1001)],
        file: { info: file(16, 0o600, 1000, 1001), data: 'ssh-ed2' },
      },
      'BASE/home/link is a symbolic link; refusing to follow it',
      { directories: [directory(0o755)], file: null },
      'BASE/home/dir-link is a symbolic link; refusing to follow it',
      { directories: [], file: null },
      '"dir/../x" is not a plain relative path',
    ]);
    await assert.rejects(host.readFilesNoFollow(`${base}/missing`, ['f'], 10), { code: 'ENOENT' });
  });

  test('writeFileNoFollow: directories made or corrected to dirMode and owner, the file its mode', async (t) => {
    const { host, base } = await make(t);
    await host.mkdir(`${base}/home/.ssh`, { mode: 0o777 });
    const owner = { dirMode: 0o700, mode: 0o600, uid: 1000, gid: 1001 };
    await host.writeFileNoFollow(`${base}/home`, '.ssh/deep/keys', 'key', owner);
    for (const dir of ['.ssh', '.ssh/deep']) {
      assert.deepEqual(pick(await host.stat(`${base}/home/${dir}`), 'directory'), directory(0o700, 1000, 1001), dir);
    }
    assert.deepEqual(pick(await host.stat(`${base}/home/.ssh/deep/keys`)), file(3, 0o600, 1000, 1001));
    await host.writeFileNoFollow(`${base}/home`, '.ssh/deep/keys', 'new key', { dirMode: 0o750 });
    assert.deepEqual(pick(await host.stat(`${base}/home/.ssh/deep/keys`)), file(7, 0o644));
    const kept = 'an owner not given is kept';
    assert.deepEqual(pick(await host.stat(`${base}/home/.ssh`), 'directory'), directory(0o750, 1000, 1001), kept);
    assert.deepEqual(await host.readdir(`${base}/home/.ssh/deep`), ['keys']);
  });

  test('writeFileNoFollow refuses a symlink (final or above), a file above; onto a directory is EISDIR', async (t) => {
    const { host, base } = await withHostileHome(await make(t));
    const write = (relative: string) => host.writeFileNoFollow(`${base}/home`, relative, 'x', { dirMode: 0o700 });
    await assert.rejects(write('link'), /link is a symbolic link; refusing to replace it/);
    await assert.rejects(write('dir-link/secret'), /dir-link is a symbolic link/);
    await assert.rejects(write('file/below'), /file is not a directory/);
    await assert.rejects(write('../secret'), UnsafePathError);
    await assert.rejects(write('dir'), { code: 'EISDIR' });
    assert.equal(await host.readText(`${base}/secret`), 'root only');
    assert.equal((await host.lstat(`${base}/home/link`))?.kind, 'symlink');
  });

  test(
    'writeFileNoFollow exclusive: a new file is created in place; anything there (a symlink too) ' + 'is EEXIST',
    async (t) => {
      const { host, base } = await withHostileHome(await make(t));
      const exclusive = { dirMode: 0o700, mode: 0o600, exclusive: true, durable: false };
      await host.writeFileNoFollow(`${base}/home`, 'fresh', 'new', exclusive);
      assert.deepEqual(pick(await host.stat(`${base}/home/fresh`)), file(3, 0o600));
      for (const taken of ['fresh', 'file', 'link', 'dir']) {
        await assert.rejects(host.writeFileNoFollow(`${base}/home`, taken, 'x', exclusive), { code: 'EEXIST' }, taken);
      }
      assert.equal(await host.readText(`${base}/home/fresh`), 'new');
      assert.equal(await host.readText(`${base}/secret`), 'root only');
    },
  );

  test('removeNoFollow: a file or symlink (not its target) goes, nothing there is fine, not a directory', async (t) => {
    const { host, base } = await withHostileHome(await make(t));
    await host.removeNoFollow(`${base}/home`, 'file');
    await host.removeNoFollow(`${base}/home`, 'link');
    await host.removeNoFollow(`${base}/home`, 'missing');
    await host.removeNoFollow(`${base}/home`, 'missing-dir/file');
    await assert.rejects(host.removeNoFollow(`${base}/home`, 'dir'), /dir is a directory/);
    await assert.rejects(host.removeNoFollow(`${base}/home`, 'dir-link/secret'), /dir-link is a symbolic link/);
    assert.deepEqual(await host.readdir(`${base}/home`), ['dir', 'dir-link']);
    assert.equal(await host.readText(`${base}/secret`), 'root only');
  });

  test('no-follow calls need base to exist (ENOENT), and follow a symlink that base itself is', async (t) => {
    const s = await make(t);
    const { host, base } = s;
    const options = { dirMode: 0o700 };
    await assert.rejects(host.readFileNoFollow(`${base}/missing`, 'f', 10), { code: 'ENOENT' });
    await assert.rejects(host.writeFileNoFollow(`${base}/missing`, 'f', 'x', options), { code: 'ENOENT' });
    await assert.rejects(host.removeNoFollow(`${base}/missing`, 'f'), { code: 'ENOENT' });
    await host.mkdir(`${base}/real-home`);
    await s.symlink('real-home', `${base}/home`);
    await host.writeFileNoFollow(`${base}/home`, 'sub/f', 'through base', options);
    assert.equal(await host.readText(`${base}/real-home/sub/f`), 'through base');
    const read = await host.readFileNoFollow(`${base}/home`, 'sub/f', 100);
    assert.equal(new TextDecoder().decode(read?.data), 'through base');
  });
}

/**
 * base/home as a user could leave it for the agent: a directory, a file, a symlink to a root-only file
 * (base/secret) and one to a directory above home.
 */
async function withHostileHome(subject: ContractSubject): Promise<ContractSubject> {
  const { host, base } = subject;
  await host.mkdir(`${base}/home/dir`);
  await host.writeFileAtomic(`${base}/home/file`, 'x');
  await host.writeFileAtomic(`${base}/secret`, 'root only');
  await subject.symlink(`${base}/secret`, `${base}/home/link`);
  await subject.symlink(base, `${base}/home/dir-link`);
  return subject;
}

function file(size: number, mode: number, uid = 0, gid = 0): Record<string, unknown> {
  return { kind: 'file', size, mode, uid, gid };
}

function directory(mode: number, uid = 0, gid = 0): Record<string, unknown> {
  return { kind: 'directory', mode, uid, gid };
}

/** What the contract compares: sizes of directories and timestamps differ by file system. */
function pick(info: Awaited<ReturnType<Host['stat']>>, kind?: 'directory'): Record<string, unknown> | null {
  if (info === null) return null;
  const { kind: found, size, mode, uid, gid } = info;
  return kind === 'directory' ? { kind: found, mode, uid, gid } : { kind: found, size, mode, uid, gid };
}
