import { describe, expect, it } from 'vitest';
import { errorExitOf, parseLine, parseMachineReadable, progressText, unescapeField, vagrantError, VagrantTimedOut } from './client.js';

// Lines as Vagrant 2.3.4 printed them on this project's machine.
const STATUS = [
  '1795612598,m1,metadata,provider,docker',
  '1795612599,m1,provider-name,docker',
  '1795612599,m1,state,running',
  '1795612599,m1,state-human-long,The container is created and running. You can stop it using\\n`vagrant halt`%!(VAGRANT_COMMA) see logs with `vagrant docker-logs`%!(VAGRANT_COMMA) and\\nkill/destroy it with `vagrant destroy`.',
  '1795612599,w1,state,stopped',
  'Ruby warning: something not machine-readable',
  '',
].join('\n');

describe('the machine-readable parser', () => {
  it('splits timestamp, target, type and data', () => {
    expect(parseLine('1795612599,m1,state,running')).toEqual({ timestamp: 1795612599, target: 'm1', type: 'state', data: ['running'] });
    expect(parseLine('1795612590,,ui,info,Bringing machine \'m1\' up with \'docker\' provider...')).toEqual({
      timestamp: 1795612590,
      target: '',
      type: 'ui',
      data: ['info', "Bringing machine 'm1' up with 'docker' provider..."],
    });
  });

  it('restores commas and newlines inside a field, and keeps fields apart', () => {
    const [, , , long] = parseMachineReadable(STATUS);
    expect(long?.data).toEqual([
      'The container is created and running. You can stop it using\n`vagrant halt`, see logs with `vagrant docker-logs`, and\nkill/destroy it with `vagrant destroy`.',
    ]);
    expect(parseLine('1,w1,plugin-version,0.11.2%!(VAGRANT_COMMA) system,extra')?.data).toEqual(['0.11.2, system', 'extra']);
    expect(unescapeField('a\\r\\nb')).toBe('a\r\nb');
  });

  it('passes over lines that are not machine-readable', () => {
    expect(parseLine('Ruby warning: something')).toBeUndefined();
    expect(parseLine('')).toBeUndefined();
    expect(parseMachineReadable(STATUS).map((l) => l.type)).toEqual(['metadata', 'provider-name', 'state', 'state-human-long', 'state']);
  });

  it('takes a type with no data', () => {
    expect(parseLine('1,,box-list-end')).toEqual({ timestamp: 1, target: '', type: 'box-list-end', data: [] });
  });
});

describe('errors', () => {
  const failed = parseMachineReadable(
    [
      "1795612560,,ui,error,An error occurred while executing multiple actions in parallel.",
      "1795612560,,error-exit,Vagrant::Errors::BatchMultiError,An error occurred on the 'm1'\\nmachine:\\n\\nsed -i '/#VAGRANT-BEGIN/%!(VAGRANT_COMMA)/#VAGRANT-END/d' /etc/fstab\\n",
    ].join('\n'),
  );

  it('reads the error class and message of error-exit', () => {
    expect(errorExitOf(failed)).toEqual({
      errorClass: 'Vagrant::Errors::BatchMultiError',
      message: "An error occurred on the 'm1'\nmachine:\n\nsed -i '/#VAGRANT-BEGIN/,/#VAGRANT-END/d' /etc/fstab",
    });
    expect(errorExitOf(parseMachineReadable(STATUS))).toBeUndefined();
  });

  it('turns error-exit into a message naming the command, with a hint for known classes', () => {
    const error = vagrantError(['up', '--provider', 'docker'], {
      exitCode: 1,
      other: [],
      error: { errorClass: 'Vagrant::Errors::ProviderNotUsable', message: 'The provider \'libvirt\' is not usable.' },
    });
    expect(error.message).toBe('"vagrant up --provider docker" failed (Vagrant::Errors::ProviderNotUsable):\n    The provider \'libvirt\' is not usable.');
    expect(error.hint).toMatch(/Install the provider/);
    expect(error.errorClass).toBe('Vagrant::Errors::ProviderNotUsable');
    expect(error.exitCode).toBe(3);
  });

  it('falls back to what Vagrant printed otherwise', () => {
    const error = vagrantError(['status'], { exitCode: 1, other: ['Vagrant failed to initialize at a very early stage:', 'bad plugin'] });
    expect(error.message).toBe('"vagrant status" failed with exit code 1:\n    Vagrant failed to initialize at a very early stage:\n    bad plugin');
    expect(vagrantError(['status'], { exitCode: 1, other: [] }, true).message).toMatch(/did not finish in time/);
    // A timeout is its own kind, so a read can be asked again.
    expect(vagrantError(['status'], { exitCode: 1, other: [] }, true)).toBeInstanceOf(VagrantTimedOut);
    expect(vagrantError(['status'], { exitCode: 1, other: [] })).not.toBeInstanceOf(VagrantTimedOut);
  });
});

describe('progress lines', () => {
  it('drops Vagrant\'s machine prefix (the harness prefixes by node) and splits lines', () => {
    const [created] = parseMachineReadable('1795612591,m1,ui,detail,    m1:  \\n    m1: Container created: 79765d5a3358c0fa');
    expect(progressText(created!)).toEqual(['Container created: 79765d5a3358c0fa']);
    const [creating] = parseMachineReadable('1795612591,m1,ui,output,==> m1: Creating the container...');
    expect(progressText(creating!)).toEqual(['Creating the container...']);
    const [name] = parseMachineReadable('1795612591,m1,ui,detail,    m1:   Name: smvg-exp-m1');
    expect(progressText(name!)).toEqual(['  Name: smvg-exp-m1']);
  });

  it('keeps environment-wide messages and ignores other types', () => {
    const [line, state] = parseMachineReadable("1,,ui,info,Bringing machine 'm1' up with 'docker' provider...\n1,m1,state,running");
    expect(progressText(line!)).toEqual(["Bringing machine 'm1' up with 'docker' provider..."]);
    expect(progressText(state!)).toEqual([]);
  });
});
