<?php
/**
 * WordPress-like lab stub for wp-includes/html-api/html5-named-character-references.php.
 *
 * @package WordPress
 */

$GLOBALS['wp_lab_loaded'][] = 'html-api/html5-named-character-references.php';
