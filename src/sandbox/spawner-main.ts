// Entry point of the spawner process (see spawner.ts): spawns the processes it is asked to, writes
// their stdin and fd 3, and relays their output and exit. It is small, so its fork() is cheap.
import { runSpawner } from './spawner-child.js';

runSpawner();
