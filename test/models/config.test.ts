import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_GATEWAY_SETTINGS, loadModelsConfig, parseModelsToml } from '../../src/models/config.js';
import { PRICE_TABLE, PRICE_TABLE_VERSION, lookupPrice, resolvePricing } from '../../src/models/pricing.js';
import { UserError } from '../../src/core/errors.js';

const GOOD = `
[gateway]
max_retries = 2

[[models]]
name = "qwen"
protocol = "openai-chat"
base_url = "https://example.com/compatible-mode/v1/"
upstream_model = "qwen3.7-max"
api_key_env = "DASHSCOPE_API_KEY"
context_window = 262144
extra_params = { enable_thinking = true, preserve_thinking = true }

[[models]]
name = "claude"
protocol = "anthropic"
base_url = "https://api.anthropic.com/v1"
pricing = { input = 3, cached_input = 0.3, cache_write = 3.75, output = 15 }
`;

function err(text: string): string {
  try {
    parseModelsToml(text, 'models.toml');
  } catch (e) {
    expect(e).toBeInstanceOf(UserError);
    const m = (e as Error).message;
    expect(m).not.toContain('\n');
    return m;
  }
  throw new Error('expected an error');
}

describe('models.toml', () => {
  it('loads endpoints and gateway settings, with defaults', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'outlast-models-'));
    fs.writeFileSync(path.join(dir, 'models.toml'), GOOD);
    const c = loadModelsConfig(path.join(dir, 'models.toml'));
    expect(c.gateway).toEqual({ ...DEFAULT_GATEWAY_SETTINGS, max_retries: 2 });
    expect(c.models[0]).toEqual({
      name: 'qwen',
      protocol: 'openai-chat',
      base_url: 'https://example.com/compatible-mode/v1',
      upstream_model: 'qwen3.7-max',
      api_key_env: 'DASHSCOPE_API_KEY',
      context_window: 262144,
      extra_params: { enable_thinking: true, preserve_thinking: true },
    });
    expect(c.models[1]).toMatchObject({ name: 'claude', upstream_model: 'claude', pricing: { input: 3, cached_input: 0.3, cache_write: 3.75, output: 15 } });
  });

  it('one-line errors naming the file and the field', () => {
    expect(err('[[models]]\nname = "x"\nprotocol = "grpc"\nbase_url = "http://a"')).toMatch(/^models\.toml: field models\[0\]\.protocol: /);
    expect(err('[[models]]\nname = "x"\nprotocol = "anthropic"\nbase_url = "ftp://a"')).toMatch(/models\[0\]\.base_url: must be an http/);
    expect(err('[[models]]\nname = "x"\nprotocol = "anthropic"\nbase_url = "http://a"\ncolour = 1')).toMatch(/unknown field "colour" in models\[0\]/);
    expect(err('[[models]]\nname = "x"\nprotocol = "anthropic"\nbase_url = "http://a"\n[[models]]\nname = "x"\nprotocol = "anthropic"\nbase_url = "http://b"')).toMatch(/models\[1\]\.name: duplicate/);
    expect(err('[gateway]\nretries = 3\n[[models]]\nname="x"\nprotocol="anthropic"\nbase_url="http://a"')).toMatch(/unknown field "retries" in gateway/);
    expect(err('[[models]]\nname = "x"\nprotocol = "anthropic"\nbase_url = "http://a"\naliases = ["y"]\n[[models]]\nname = "y"\nprotocol = "anthropic"\nbase_url = "http://b"')).toMatch(/models\[0\]\.aliases\[0\]: "y" already names a model/);
    expect(err('models = [')).toMatch(/^models\.toml: not valid TOML/);
    expect(err('[[models]]\nname = "x"\nprotocol = "anthropic"\nbase_url = "http://a"\npricing = { input = 1 }')).toMatch(/models\[0\]\.pricing\.output/);
  });

  it('a key pasted into api_key_env is refused without being echoed', () => {
    const m = err('[[models]]\nname = "x"\nprotocol = "anthropic"\nbase_url = "http://a"\napi_key_env = "sk-ant-secret-123456"');
    expect(m).toMatch(/api_key_env: must be the name of an environment variable/);
    expect(m).not.toContain('sk-ant-secret');
  });

  it('missing file → UserError naming it', () => {
    expect(() => loadModelsConfig('/nonexistent/models.toml')).toThrow(/\/nonexistent\/models\.toml: cannot read/);
  });
});

describe('price table', () => {
  it('has qwen3.7-max at 2.50 / 0.25 / 7.50 and a source for every entry', () => {
    expect(PRICE_TABLE['qwen3.7-max']!.pricing).toEqual({ input: 2.5, cached_input: 0.25, cache_write: 2.5, output: 7.5 });
    for (const e of Object.values(PRICE_TABLE)) expect(e.source.length).toBeGreaterThan(10);
  });
  it('looks up exact, provider-prefixed and dated ids', () => {
    expect(lookupPrice('openai/gpt-4o')?.key).toBe('gpt-4o');
    expect(lookupPrice('claude-sonnet-4-5-20250929')?.key).toBe('claude-sonnet-4-5');
    expect(lookupPrice('gpt-4o-mini-2024-07-18')?.key).toBe('gpt-4o-mini');
    expect(lookupPrice('llama-99')).toBeNull();
  });
  it('endpoint pricing wins; else the table (versioned); else unpriced', () => {
    const p = { input: 1, cached_input: 1, cache_write: 1, output: 1 };
    expect(resolvePricing({ name: 'a', upstream_model: 'gpt-4o', pricing: p })).toEqual({ pricing: p, price_table: 'models.toml' });
    expect(resolvePricing({ name: 'a', upstream_model: 'qwen3.7-max' }).price_table).toBe(`${PRICE_TABLE_VERSION}:qwen3.7-max`);
    expect(resolvePricing({ name: 'a', upstream_model: 'mystery' })).toEqual({ pricing: null, price_table: `${PRICE_TABLE_VERSION}:unpriced` });
  });
});
