<?php
/**
 * WordPress-like lab stub for wp-includes/rewrite.php.
 *
 * @package WordPress
 */

$GLOBALS['wp_lab_loaded'][] = 'rewrite.php';
