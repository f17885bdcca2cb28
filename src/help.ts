// Help wrapped once, at word boundaries: descriptions are written as paragraphs (one source line
// each) and filled to the terminal width here; a word is never split (oclif's own wrapping cuts
// words longer than the space left), list items keep their hanging indent, and the summary line
// and topic summaries, which oclif prints as they are, are wrapped too.
import {CommandHelp, Help} from '@oclif/core/help'

import {wrapText} from './lib/output.js'

class KmsctlCommandHelp extends CommandHelp {
  override wrap(body: string, spacing = this.indentSpacing): string {
    return wrapText(this.render(body), this.opts.maxWidth - spacing)
  }
}

export default class KmsctlHelp extends Help {
  override CommandHelpClass = KmsctlCommandHelp

  override wrap(body: string, spacing = this.indentSpacing): string {
    return wrapText(this.render(body), this.opts.maxWidth - spacing)
  }

  // Every line leaves here: the ones oclif does not wrap (the summary, topic summaries in a
  // listing) are filled to the width, with their indent.
  protected override log(...args: string[]): void {
    super.log(...args.map((a) => wrapText(a, this.opts.maxWidth)))
  }
}
