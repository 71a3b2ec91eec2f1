import { Recipe, type ParsedRecipe } from '../schema.ts';
import { containerd } from './containerd.ts';
import { containerdDevmapper } from './containerd-devmapper.ts';
import { crictl } from './crictl.ts';
import { crio } from './crio.ts';
import { crun } from './crun.ts';
import { docker } from './docker.ts';
import { dockerLegacy1806 } from './docker-18.06.ts';
import { firecracker } from './firecracker.ts';
import { kata1 } from './kata1.ts';
import { kataFc } from './kata-fc.ts';
import { kataQemu } from './kata-qemu.ts';
import { nabla } from './nabla.ts';
import { node } from './node.ts';
import { ociBundle } from './oci-bundle.ts';
import { runc } from './runc.ts';
import { runsc } from './runsc.ts';
import { youki } from './youki.ts';

// Every recipe, validated once at load: a malformed recipe fails the first test that
// imports the knowledge base, not a user's setup halfway through.

export const RECIPES: readonly ParsedRecipe[] = [
  node, ociBundle, runc, crun, youki, runsc, containerd, containerdDevmapper, docker, dockerLegacy1806,
  kataQemu, kataFc, kata1, firecracker, nabla, crio, crictl,
].map((recipe) => Recipe.parse(recipe));

export function findRecipe(id: string): ParsedRecipe | undefined {
  return RECIPES.find((r) => r.id === id);
}
