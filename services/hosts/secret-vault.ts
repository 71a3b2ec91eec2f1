import { z } from 'zod';
import { LabError } from '../../shared/lab-error.ts';
import { readJsonFile, writeJsonFile, type LoadedJson } from '../storage/json-file.ts';

/** The shape of Electron's safeStorage, so main passes it in as it is. */
export interface SecretEncryptor {
  isEncryptionAvailable(): boolean;
  encryptString(plain: string): Buffer;
  decryptString(encrypted: Buffer): string;
}

const VaultFile = z.record(z.string(), z.string());

// Remembered passwords and passphrases, encrypted by the OS keychain (safeStorage) and
// stored as base64 ciphertext only. With no encryptor (the CLI) nothing can be stored.
export class SecretVault {
  private readonly file: string;
  private readonly encryptor: SecretEncryptor | null;
  private entries: Record<string, string>;
  readonly movedAside: string | undefined;

  constructor(file: string, encryptor: SecretEncryptor | null) {
    this.file = file;
    this.encryptor = encryptor;
    const loaded: LoadedJson<Record<string, string>> = readJsonFile(file, VaultFile, {});
    this.entries = loaded.value;
    this.movedAside = loaded.movedAside;
  }

  get available(): boolean {
    return this.encryptor?.isEncryptionAvailable() ?? false;
  }

  has(hostId: string): boolean {
    return Object.hasOwn(this.entries, hostId);
  }

  store(hostId: string, secret: string): void {
    if (!this.encryptor || !this.encryptor.isEncryptionAvailable()) {
      throw new LabError(
        'secret-storage-unavailable',
        'This system offers no secure storage (no keyring), so the secret cannot be remembered; it will be asked for when connecting.',
      );
    }
    this.entries = { ...this.entries, [hostId]: this.encryptor.encryptString(secret).toString('base64') };
    writeJsonFile(this.file, this.entries);
  }

  read(hostId: string): string | undefined {
    const stored = this.entries[hostId];
    if (stored === undefined || !this.encryptor?.isEncryptionAvailable()) return undefined;
    try {
      return this.encryptor.decryptString(Buffer.from(stored, 'base64'));
    } catch {
      // A keyring reset makes old ciphertext unreadable: forget it, the user is asked again.
      this.remove(hostId);
      return undefined;
    }
  }

  remove(hostId: string): void {
    if (!this.has(hostId)) return;
    const { [hostId]: _removed, ...rest } = this.entries;
    this.entries = rest;
    writeJsonFile(this.file, this.entries);
  }
}
