<?php
/**
 * WordPress-like lab stub for wp-includes/author-template.php.
 *
 * @package WordPress
 */

$GLOBALS['wp_lab_loaded'][] = 'author-template.php';
