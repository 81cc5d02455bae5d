/** The desk's words: Portuguese by default, English by Accept-Language or the switch (cookie `desk_lang`). */
export type DeskLang = 'pt-BR' | 'en';

const pt = {
  title: 'Redação', desk: 'Mesa', preview: 'Prévia e envio', queue: 'Fila', feeds: 'Feeds', audit: 'Auditoria', signOut: 'Sair',
  signIn: 'Entrar', user: 'Usuário', password: 'Senha', wrongPassword: 'Usuário ou senha incorretos.', tooMany: 'Tentativas demais; espere alguns minutos.',
  platforms: 'Plataformas', connected: 'conectado', degraded: 'degradado', down: 'desconectado', paused: 'Envio automático pausado', pausedBy: 'por', running: 'Envio automático ligado',
  pause: 'Pausar', resume: 'Retomar', destination: 'Destino', pending: 'pendentes', sending: 'enviando', sentHour: 'enviadas (1 h)', failed: 'falharam', dead: 'mortas',
  lastSent: 'Últimas mensagens enviadas', failingFeeds: 'Feeds com falha', nextTry: 'próxima tentativa', none: 'Nada por aqui.',
  url: 'Endereço da matéria', show: 'Mostrar prévia', orPick: 'ou escolha uma das últimas', push: 'Enviar agora', confirm: 'Confirmar envio',
  sentOf: (s: number, t: number) => `enviado para ${s} de ${t} destinos`, requeue: 'Reenfileirar', cancel: 'Cancelar', reason: 'Motivo',
  health: 'Saúde', lastPoll: 'Última leitura', nextPoll: 'Próxima leitura', items: 'Itens vistos', ok: 'ok', who: 'Quem', when: 'Quando', what: 'O quê', outcome: 'Resultado',
  readOnly: 'Lista somente leitura: os feeds vêm da configuração (FEED_URLS e arquivo de rotas).', chooseDest: 'Destinos',
  fromConfig: 'da configuração', addFeed: 'Adicionar feed', feedUrl: 'Endereço do feed', section: 'Seção (opcional)', interval: 'Intervalo (opcional, ex.: 10m)',
  add: 'Verificar e adicionar', remove: 'Remover', importOpml: 'Importar OPML', exportOpml: 'Exportar OPML', upload: 'Importar',
  added: 'adicionado', updated: 'atualizado', firstItems: 'Primeiros itens', removedOk: 'removido', notManaged: 'não é um feed adicionado aqui',
  needHttp: 'o endereço precisa começar com http:// ou https://', fromConfigAlready: 'já é lido da configuração; mude-o lá', tooBig: 'Arquivo OPML grande demais (máx. 1 MB).', noFile: 'Escolha um arquivo OPML.',
  importing: (d: number, t: number) => `importando ${d} de ${t}`, importDone: (a: number, al: number, f: number) => `concluído: ${a} adicionados, ${al} já lidos, ${f} com falha`,
  importFailed: 'A importação falhou', back: 'Voltar aos feeds',
};
export type DeskWords = typeof pt;
const en: DeskWords = {
  title: 'Newsroom', desk: 'Desk', preview: 'Preview & push', queue: 'Queue', feeds: 'Feeds', audit: 'Audit', signOut: 'Sign out',
  signIn: 'Sign in', user: 'User', password: 'Password', wrongPassword: 'Wrong user or password.', tooMany: 'Too many attempts; wait a few minutes.',
  platforms: 'Platforms', connected: 'connected', degraded: 'degraded', down: 'disconnected', paused: 'Automatic posting paused', pausedBy: 'by', running: 'Automatic posting on',
  pause: 'Pause', resume: 'Resume', destination: 'Destination', pending: 'pending', sending: 'sending', sentHour: 'sent (1 h)', failed: 'failed', dead: 'dead',
  lastSent: 'Last messages sent', failingFeeds: 'Failing feeds', nextTry: 'next try', none: 'Nothing here.',
  url: 'Article URL', show: 'Show preview', orPick: 'or pick one of the latest', push: 'Push now', confirm: 'Confirm push',
  sentOf: (s: number, t: number) => `sent to ${s} of ${t} destinations`, requeue: 'Requeue', cancel: 'Cancel', reason: 'Reason',
  health: 'Health', lastPoll: 'Last poll', nextPoll: 'Next poll', items: 'Items seen', ok: 'ok', who: 'Who', when: 'When', what: 'What', outcome: 'Outcome',
  readOnly: 'Read-only list: feeds come from the configuration (FEED_URLS and the routes file).', chooseDest: 'Destinations',
  fromConfig: 'from configuration', addFeed: 'Add a feed', feedUrl: 'Feed URL', section: 'Section (optional)', interval: 'Interval (optional, e.g. 10m)',
  add: 'Check and add', remove: 'Remove', importOpml: 'Import OPML', exportOpml: 'Export OPML', upload: 'Import',
  added: 'added', updated: 'updated', firstItems: 'First items', removedOk: 'removed', notManaged: 'is not a feed added here',
  needHttp: 'the URL must start with http:// or https://', fromConfigAlready: 'is already polled from configuration; change it there', tooBig: 'OPML file too large (1 MB at most).', noFile: 'Choose an OPML file.',
  importing: (d: number, t: number) => `importing ${d} of ${t}`, importDone: (a: number, al: number, f: number) => `done: ${a} added, ${al} already polled, ${f} failed`,
  importFailed: 'The import failed', back: 'Back to the feeds',
};

export function words(lang: DeskLang): DeskWords {
  return lang === 'en' ? en : pt;
}

/** The cookie wins; then the first of Accept-Language that is English or Portuguese; then Portuguese. */
export function pickLang(cookie: string | undefined, acceptLanguage: string | undefined): DeskLang {
  if (cookie === 'en' || cookie === 'pt-BR') return cookie;
  for (const part of (acceptLanguage ?? '').slice(0, 200).split(',')) {
    const tag = part.trim().toLowerCase();
    if (tag.startsWith('pt')) return 'pt-BR';
    if (tag.startsWith('en')) return 'en';
  }
  return 'pt-BR';
}
