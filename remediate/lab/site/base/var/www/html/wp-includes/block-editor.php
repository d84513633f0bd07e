<?php
/**
 * WordPress-like lab stub for wp-includes/block-editor.php.
 *
 * @package WordPress
 */

$GLOBALS['wp_lab_loaded'][] = 'block-editor.php';
